package main

import (
	"testing"

	"github.com/flotilla-io/flotilla/bench/harness"
)

const socket = "/tmp/flotilla-node-1/containerd/containerd.sock"

func TestPodProcess(t *testing.T) {
	tests := []struct {
		name    string
		cgroup  string
		cmdline []string
		wantOK  bool
		wantUID string
	}{
		{
			name:    "pause-in-a-besteffort-pod-cgroup-v1",
			cgroup:  "12:memory:/flotilla-node/kubepods/besteffort/pod1f2e-33/0a1b2c\n11:cpu,cpuacct:/flotilla-node/kubepods/besteffort/pod1f2e-33/0a1b2c\n1:name=systemd:/\n",
			cmdline: []string{"/pause"},
			wantOK:  true, wantUID: "1f2e-33",
		},
		{
			name:   "cgroup-v2-unified",
			cgroup: "0::/flotilla-node/kubepods/pod77/abc\n", cmdline: []string{"/pause"},
			wantOK: true, wantUID: "77",
		},
		{
			name:    "shim-of-the-node-s-containerd",
			cgroup:  "12:memory:/\n",
			cmdline: []string{"/usr/bin/containerd-shim-runc-v2", "-namespace", "k8s.io", "-id", "0a1b", "-address", socket},
			wantOK:  true,
		},
		{
			name:    "shim-with-the-address-as-one-argument",
			cgroup:  "12:memory:/\n",
			cmdline: []string{"containerd-shim-runc-v2", "-namespace", "k8s.io", "--address=" + socket},
			wantOK:  true,
		},
		{
			name:    "shim-of-another-containerd",
			cgroup:  "12:memory:/\n",
			cmdline: []string{"/usr/bin/containerd-shim-runc-v2", "-namespace", "moby", "-address", "/run/containerd/containerd.sock"},
		},
		{
			name:    "a-cgroup-whose-name-only-starts-like-the-root",
			cgroup:  "12:memory:/flotilla-node-other/x\n",
			cmdline: []string{"sleep", "100"},
		},
		{name: "kernel-thread", cgroup: "0::/\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, uid := podProcess(tt.cgroup, tt.cmdline, cgroupRoot, socket)
			if ok != tt.wantOK || uid != tt.wantUID {
				t.Errorf("podProcess = %v, %q; want %v, %q", ok, uid, tt.wantOK, tt.wantUID)
			}
		})
	}
}

func TestPodUID(t *testing.T) {
	for path, want := range map[string]string{
		"/flotilla-node/kubepods/burstable/podab-cd/123": "ab-cd",
		"/flotilla-node/kubepods/podef/456":              "ef",
		"/flotilla-node/kubepods":                        "",
		"/flotilla-node/kubepods/pod":                    "",
	} {
		if got := podUID(path); got != want {
			t.Errorf("podUID(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestSplitCmdline(t *testing.T) {
	got := splitCmdline([]byte("containerd\x00--config\x00/tmp/c.toml\x00"))
	if len(got) != 3 || got[2] != "/tmp/c.toml" {
		t.Errorf("splitCmdline = %q", got)
	}
	if got := splitCmdline(nil); got != nil {
		t.Errorf("a kernel thread's empty cmdline split to %q", got)
	}
}

func TestFlagValue(t *testing.T) {
	for _, tt := range []struct {
		cmdline []string
		want    string
	}{
		{[]string{"containerd", "--config", "/a.toml"}, "/a.toml"},
		{[]string{"containerd", "--config=/b.toml"}, "/b.toml"},
		{[]string{"containerd", "-config", "/c.toml"}, "/c.toml"},
		{[]string{"containerd", "--config"}, ""},
		{[]string{"containerd"}, ""},
	} {
		if got := flagValue(tt.cmdline, "config"); got != tt.want {
			t.Errorf("flagValue(%q) = %q, want %q", tt.cmdline, got, tt.want)
		}
	}
}

func TestGRPCAddress(t *testing.T) {
	config := `version = 2
root = "/tmp/n/containerd/root"

[grpc]
  address = "/tmp/n/containerd/containerd.sock"

[ttrpc]
  address = "/tmp/n/containerd/containerd.sock.ttrpc"
`
	if got := grpcAddress(config); got != "/tmp/n/containerd/containerd.sock" {
		t.Errorf("grpcAddress = %q", got)
	}
	if got := grpcAddress("[ttrpc]\n  address = \"/x\"\n"); got != "" {
		t.Errorf("a config without [grpc] gave %q", got)
	}
}

func TestPerPodAndTotal(t *testing.T) {
	pods := podProcesses{Memory: harness.Memory{RSS: 300, PSS: 90}, Processes: 6, Pods: 3}
	if got := pods.perPod(); got != (harness.Memory{RSS: 100, PSS: 30}) {
		t.Errorf("perPod = %+v", got)
	}
	if got := (podProcesses{Memory: harness.Memory{RSS: 7, PSS: 5}}).perPod(); got != (harness.Memory{RSS: 7, PSS: 5}) {
		t.Errorf("perPod without a Pod UID = %+v, want the whole", got)
	}
	idle := idleMemory{components: map[string]harness.Memory{"etcd": {RSS: 10, PSS: 8}, "kubelet": {RSS: 20, PSS: 12}}, pods: pods}
	if got := idle.total(); got != (harness.Memory{RSS: 330, PSS: 110}) {
		t.Errorf("total = %+v", got)
	}
}
