package harness

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"k8s.io/client-go/rest"
)

func TestParseKB(t *testing.T) {
	tests := []struct {
		name, text, key string
		want            uint64
		wantErr         bool
	}{
		{name: "status-vmrss", text: "Name:\tetcd\nVmHWM:\t  90000 kB\nVmRSS:\t   81920 kB\n", key: "VmRSS", want: 81920 * 1024},
		{name: "smaps-rollup-pss", text: "55d0-7ffd ---p 00000000 00:00 0 [rollup]\nRss:  2048 kB\nPss:  1024 kB\nPss_Anon:  512 kB\n", key: "Pss", want: 1024 * 1024},
		{name: "zombie-without-the-line", text: "Name:\tzombie\n", key: "VmRSS"},
		{name: "not-a-number", text: "VmRSS:\tlots\n", key: "VmRSS", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseKB(tt.text, tt.key)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ParseKB = %d, %v; want %d, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseStatComm(t *testing.T) {
	comm, ppid, err := ParseStatComm([]byte("4242 (kube (api) server) S 77 4242 4242 0 -1 4194560 0 0"))
	if err != nil || comm != "kube (api) server" || ppid != 77 {
		t.Errorf("got %q %d %v, want \"kube (api) server\" 77", comm, ppid, err)
	}
	if _, _, err := ParseStatComm([]byte("4242 no parens")); err == nil {
		t.Error("no error for a stat without (comm)")
	}
}

func TestProcMemoryOfThisProcess(t *testing.T) {
	m, err := ProcMemory(os.Getpid())
	if err != nil {
		t.Skipf("no /proc/self/smaps_rollup here: %v", err)
	}
	if m.RSS == 0 || m.PSS == 0 || m.PSS > m.RSS {
		t.Errorf("memory %+v: want RSS and Pss above 0, Pss at most RSS", m)
	}
}

func TestMemoryPlus(t *testing.T) {
	if got := (Memory{RSS: 3, PSS: 2}).Plus(Memory{RSS: 5, PSS: 1}); got != (Memory{RSS: 8, PSS: 3}) {
		t.Errorf("Plus = %+v", got)
	}
}

func TestFormatBytes(t *testing.T) {
	for b, want := range map[float64]string{64 << 20: "64 MiB", 3 << 30: "3072 MiB", 12 << 30: "12.0 GiB"} {
		if got := FormatBytes(b); got != want {
			t.Errorf("FormatBytes(%v) = %q, want %q", b, got, want)
		}
	}
}

func TestServerVersion(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/version" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(`{"major":"1","minor":"37","gitVersion":"v1.37.2"}`))
	}))
	defer srv.Close()
	got, err := ServerVersion(&rest.Config{Host: srv.URL})
	if err != nil || got != "v1.37.2" {
		t.Errorf("ServerVersion = %q, %v; want v1.37.2", got, err)
	}
}

func TestMemoryGuard(t *testing.T) {
	name := func(i int) string { return "cluster-" + string(rune('a'+i)) }
	if err := MemoryGuard(0, 3, "kube-apiserver", name)(1); err != nil {
		t.Errorf("a floor of 0 refused a start: %v", err)
	}
	err := MemoryGuard(1<<62, 3, "kube-apiserver", name)(1)
	if err == nil || !strings.Contains(err.Error(), "not starting the kube-apiserver of cluster-b") || !strings.Contains(err.Error(), "1 of 3 clusters started") {
		t.Errorf("a floor above any memory gave %v, want a refusal naming cluster-b and 1 of 3", err)
	}
}
