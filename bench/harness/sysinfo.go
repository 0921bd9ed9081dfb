package harness

import (
	"bufio"
	"strconv"
	"strings"
)

// CPUModel returns the first "model name" of a /proc/cpuinfo text, or ""
// (some architectures name it otherwise).
func CPUModel(cpuinfo string) string {
	return procField(cpuinfo, "model name")
}

// MemTotalBytes returns MemTotal of a /proc/meminfo text, in bytes; 0 when
// it is missing.
func MemTotalBytes(meminfo string) uint64 {
	v := procField(meminfo, "MemTotal") // "24576000 kB"
	n, err := strconv.ParseUint(strings.TrimSuffix(v, " kB"), 10, 64)
	if err != nil {
		return 0
	}
	return n * 1024
}

// procField returns the value of the first "key: value" line of a /proc
// text file with the given key.
func procField(text, key string) string {
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
