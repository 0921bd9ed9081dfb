package harness

import "testing"

func TestCPUModel(t *testing.T) {
	info := "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel\t\t: 85\nmodel name\t: Intel(R) Xeon(R) Processor\n\nprocessor\t: 1\nmodel name\t: Intel(R) Xeon(R) Processor\n"
	if got := CPUModel(info); got != "Intel(R) Xeon(R) Processor" {
		t.Errorf("CPUModel = %q", got)
	}
	if got := CPUModel("processor\t: 0\n"); got != "" {
		t.Errorf("CPUModel without a model name = %q, want empty", got)
	}
}

func TestMemTotalBytes(t *testing.T) {
	if got := MemTotalBytes("MemTotal:       24576000 kB\nMemFree:  1 kB\n"); got != 24576000*1024 {
		t.Errorf("MemTotalBytes = %d", got)
	}
	if got := MemTotalBytes("MemFree: 1 kB\n"); got != 0 {
		t.Errorf("MemTotalBytes without MemTotal = %d, want 0", got)
	}
}
