package harness

import "testing"

func TestMachineString(t *testing.T) {
	m := Machine{CPUs: 2, CPUModel: "Test CPU", MemBytes: 8 << 30, Kernel: "6.1", GoVersion: "go1.26"}
	want := "2 CPUs (Test CPU), 8 GiB RAM, Linux 6.1, go1.26"
	if got := m.String(); got != want {
		t.Errorf("without a kube-apiserver version:\n got %q\nwant %q", got, want)
	}
	m.KubeVersion = "v1.37.2"
	if got := m.String(); got != want+", kube-apiserver v1.37.2" {
		t.Errorf("with a kube-apiserver version: got %q", got)
	}
}
