package harness

import (
	"os"
	"testing"
)

func TestMachineString(t *testing.T) {
	m := Machine{CPUs: 2, CPUModel: "Test CPU", MemBytes: 8 << 30, Kernel: "6.1", Go: "go1.26", KubeVersion: "v1.37.2"}
	want := "2 CPUs (Test CPU), 8 GiB RAM, Linux 6.1, go1.26, kube-apiserver v1.37.2"
	if got := m.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	m.KubeVersion = ""
	if got := m.String(); got != "2 CPUs (Test CPU), 8 GiB RAM, Linux 6.1, go1.26" {
		t.Errorf("without a control plane, String() = %q", got)
	}
}

func TestDescribeMachineOutsideARepository(t *testing.T) {
	m := DescribeMachine(os.TempDir())
	if m.CPUs < 1 || m.Go == "" || len(m.Date) != len("2006-01-02") {
		t.Errorf("DescribeMachine = %+v", m)
	}
}

func TestFormatSeconds(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"},
		{0.000250, "250 µs"},
		{0.00369, "3.69 ms"},
		{0.0202, "20.2 ms"},
		{0.674, "674 ms"},
		{10.449, "10.45 s"},
	}
	for _, tt := range tests {
		if got := FormatSeconds(tt.in); got != tt.want {
			t.Errorf("FormatSeconds(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPlural(t *testing.T) {
	if got := Plural(1, "run"); got != "1 run" {
		t.Errorf("Plural(1) = %q", got)
	}
	if got := Plural(3, "run"); got != "3 runs" {
		t.Errorf("Plural(3) = %q", got)
	}
}
