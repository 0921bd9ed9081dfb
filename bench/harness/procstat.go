package harness

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"
)

// ClockTick is the unit of utime and stime in /proc/<pid>/stat: USER_HZ,
// which is 100 on every architecture Linux and Go share. CPU times read
// from there are therefore multiples of 10ms.
const ClockTick = 10 * time.Millisecond

// ParseProcStat returns the user and system CPU time, in clock ticks, of a
// /proc/<pid>/stat line. The command name (field 2) may hold spaces and
// parentheses, so the fields are counted from the last ')'.
func ParseProcStat(stat []byte) (utime, stime uint64, err error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, 0, errors.New("proc stat: no ')' after the command name")
	}
	// After ')': state (field 3), ... utime (field 14), stime (field 15).
	fields := bytes.Fields(stat[i+1:])
	if len(fields) < 13 {
		return 0, 0, fmt.Errorf("proc stat: %d fields after the command name, want at least 13", len(fields))
	}
	if utime, err = strconv.ParseUint(string(fields[11]), 10, 64); err != nil {
		return 0, 0, fmt.Errorf("proc stat utime: %w", err)
	}
	if stime, err = strconv.ParseUint(string(fields[12]), 10, 64); err != nil {
		return 0, 0, fmt.Errorf("proc stat stime: %w", err)
	}
	return utime, stime, nil
}

// ProcessCPU returns the CPU time (user + system) this process has used,
// read from /proc/self/stat; it covers every goroutine of the process and
// nothing of its child processes.
func ProcessCPU() (time.Duration, error) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, err
	}
	u, s, err := ParseProcStat(b)
	if err != nil {
		return 0, err
	}
	return time.Duration(u+s) * ClockTick, nil
}
