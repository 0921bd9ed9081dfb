package main

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/flotilla-io/flotilla/internal/dashboard"
)

func TestParseOptions(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    func(options) bool
		wantErr string
	}{
		{"defaults: 50 clusters of 20 Stacks", nil, func(o options) bool {
			return o.clusters == 50 && o.stacks == 20 && o.changes == 100 && o.streams == 10 && o.runs == 3 && o.chromium == defaultChromium && o.output == "text"
		}, ""},
		{"quick", []string{"-quick"}, func(o options) bool {
			return o.clusters == 3 && o.stacks == 4 && o.changes == 10 && o.streams == 2 && o.runs == 1
		}, ""},
		{"quick keeps explicit flags", []string{"-quick", "-clusters", "5"}, func(o options) bool { return o.clusters == 5 && o.stacks == 4 }, ""},
		{"no browser", []string{"-chromium", ""}, func(o options) bool { return o.chromium == "" }, ""},
		{"no clusters", []string{"-clusters", "0"}, nil, "-clusters must be at least 1"},
		{"no streams", []string{"-streams", "0"}, nil, "-streams must be at least 1"},
		{"no timeout", []string{"-timeout", "0s"}, nil, "-timeout must be positive"},
		{"update needs markdown", []string{"-update", "BENCHMARKS.md"}, nil, "-update needs -o markdown"},
		{"stray argument", []string{"extra"}, nil, "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseOptions(tt.args, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !tt.want(o) {
				t.Errorf("options %+v", o)
			}
		})
	}
}

// sseEvent is one dispatched event of readEvents.
type sseEvent struct{ Event, Data string }

func collect(t *testing.T, text string) []sseEvent {
	t.Helper()
	var got []sseEvent
	if err := readEvents(strings.NewReader(text), func(e, d string) error {
		got = append(got, sseEvent{e, d})
		return nil
	}); err != nil {
		t.Fatalf("readEvents: %v", err)
	}
	return got
}

func TestReadEvents(t *testing.T) {
	tests := []struct {
		name, text string
		want       []sseEvent
	}{
		{"fleet then cluster", "event: fleet\ndata: {\"version\":1}\n\nevent: cluster\ndata: {\"name\":\"a\"}\n\n",
			[]sseEvent{{"fleet", `{"version":1}`}, {"cluster", `{"name":"a"}`}}},
		{"keep-alive comment between events", ": keep-alive\n\nevent: cluster\ndata: x\n\n", []sseEvent{{"cluster", "x"}}},
		{"data lines joined by newlines", "event: fleet\ndata: a\ndata: b\n\n", []sseEvent{{"fleet", "a\nb"}}},
		{"no type is a message", "data: hello\n\n", []sseEvent{{"message", "hello"}}},
		{"carriage returns", "event: cluster\r\ndata: x\r\n\r\n", []sseEvent{{"cluster", "x"}}},
		{"no space after the colon", "event:cluster\ndata:x\n\n", []sseEvent{{"cluster", "x"}}},
		{"an event without data is not dispatched", "event: cluster\n\n", nil},
		{"an unfinished event is not dispatched", "event: cluster\ndata: x\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, collect(t, tt.text)); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzReadEvents writes an event as the server does and checks that it
// reads back the same.
func FuzzReadEvents(f *testing.F) {
	f.Add("cluster", `{"name":"cluster-00","stacks":[]}`)
	f.Add("fleet", "line one\nline two")
	f.Add("", " leading space")
	f.Fuzz(func(t *testing.T, event, data string) {
		// The server's format: an event type holds no line break, colon or
		// edge space, and data no carriage return; other inputs are brought
		// into that format rather than skipped.
		event = strings.TrimSpace(strings.Map(func(r rune) rune {
			if r == '\r' || r == '\n' || r == ':' {
				return -1
			}
			return r
		}, event))
		data = strings.ReplaceAll(data, "\r", "")
		var text strings.Builder
		if event != "" {
			text.WriteString("event: " + event + "\n")
		}
		for line := range strings.SplitSeq(data, "\n") {
			text.WriteString("data: " + line + "\n")
		}
		text.WriteString("\n")
		want := sseEvent{event, data}
		if event == "" {
			want.Event = "message"
		}
		if diff := cmp.Diff([]sseEvent{want}, collect(t, text.String())); diff != "" {
			t.Errorf("events of %q (-want +got):\n%s", text.String(), diff)
		}
	})
}

func TestStreamNotesEachRowStateOnce(t *testing.T) {
	s := &stream{seen: map[string]time.Time{}}
	fleet := `{"version":1,"clusters":[{"name":"cluster-00","stacks":[{"namespace":"flotilla-system","name":"monitoring","ready":"True","revision":"main@sha1:aaa"}]}]}`
	if err := s.handle("fleet", fleet); err != nil {
		t.Fatal(err)
	}
	first, ok := s.when(cellKey("cluster-00", namespace+"/monitoring", "main@sha1:aaa", "True"))
	if !ok {
		t.Fatal("the fleet event's row was not noted")
	}
	if err := s.handle("fleet", fleet); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.when(cellKey("cluster-00", namespace+"/monitoring", "main@sha1:aaa", "True")); !again.Equal(first) {
		t.Errorf("a row seen again moved its time from %s to %s", first, again)
	}
	if err := s.handle("cluster", `{"name":"cluster-00","reachable":true,"stacks":[{"namespace":"flotilla-system","name":"monitoring","ready":"False","revision":"main@sha1:bbb"}]}`); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.when(cellKey("cluster-00", namespace+"/monitoring", "main@sha1:bbb", "False")); !ok {
		t.Error("the cluster event's row was not noted")
	}
	if err := s.handle("cluster", `{"name":"cluster-00","reachable":false,"error":"unreachable: the API server did not answer /readyz within 2s","stacks":[]}`); err != nil {
		t.Fatal(err)
	}
	if fleets, clusters, unreachable := s.counts(); fleets != 2 || clusters != 2 || unreachable != 1 {
		t.Errorf("counts %d fleet, %d cluster and %d unreachable events, want 2, 2 and 1", fleets, clusters, unreachable)
	}
	if err := s.handle("cluster", "{not json"); err == nil {
		t.Error("a cluster event that is not JSON gave no error")
	}
	if err := s.handle("ping", "anything"); err != nil {
		t.Errorf("an event of another type gave %v, want it ignored", err)
	}
}

func TestParseWatches(t *testing.T) {
	text := `# HELP apiserver_longrunning_requests [ALPHA] Gauge of all active long-running apiserver requests.
# TYPE apiserver_longrunning_requests gauge
apiserver_longrunning_requests{component="apiserver",group="flotilla.io",resource="stacks",scope="cluster",subresource="",verb="WATCH",version="v1alpha1"} 1
apiserver_longrunning_requests{component="apiserver",group="flotilla.io",resource="stacks",scope="namespace",subresource="",verb="WATCH",version="v1alpha1"} 2
apiserver_longrunning_requests{component="apiserver",group="flotilla.io",resource="canaries",scope="cluster",subresource="",verb="WATCH",version="v1alpha1"} 1
apiserver_longrunning_requests{component="apiserver",group="flotilla.io",resource="canaries",scope="cluster",subresource="log",verb="CONNECT",version="v1alpha1"} 4
apiserver_longrunning_requests{component="apiserver",group="",resource="configmaps",scope="cluster",subresource="",verb="WATCH",version="v1"} 7
`
	other := "# HELP apiserver_request_total Counter of apiserver requests.\n# TYPE apiserver_request_total counter\n" +
		`apiserver_request_total{group="flotilla.io",resource="stacks",verb="WATCH"} 9` + "\n"
	got, err := readWatches(strings.NewReader(other + text + other))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(watches{"stacks": 3, "canaries": 1}, got); diff != "" {
		t.Errorf("watches (-want +got):\n%s", diff)
	}
	if got.total() != 4 || got.String() != "canaries 1, stacks 3" {
		t.Errorf("total %d, String %q", got.total(), got.String())
	}
	if _, err := parseWatches("# TYPE other gauge\nother 1\n"); err == nil || !strings.Contains(err.Error(), watchMetric) {
		t.Errorf("metrics without %s gave %v, want an error naming it", watchMetric, err)
	}
}

func TestIncomplete(t *testing.T) {
	rows := func(n int) []dashboard.StackRow { return make([]dashboard.StackRow, n) }
	tests := []struct {
		name  string
		fleet dashboard.Fleet
		want  string
	}{
		{"complete", dashboard.Fleet{Clusters: []dashboard.Cluster{{Name: "a", Reachable: true, Stacks: rows(2)}, {Name: "b", Reachable: true, Stacks: rows(2)}}}, ""},
		{"a cluster missing", dashboard.Fleet{Clusters: []dashboard.Cluster{{Name: "a", Reachable: true, Stacks: rows(2)}}}, "1 clusters, want 2"},
		{"unreachable", dashboard.Fleet{Clusters: []dashboard.Cluster{{Name: "a", Reachable: true, Stacks: rows(2)}, {Name: "b", Error: "dial tcp: refused"}}}, "b not reachable: dial tcp: refused"},
		{"Stacks missing", dashboard.Fleet{Clusters: []dashboard.Cluster{{Name: "a", Reachable: true, Stacks: rows(1)}, {Name: "b", Reachable: true, Stacks: rows(2)}}}, "a shows 1 Stacks, want 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := incomplete(tt.fleet, 2, 2); got != tt.want {
				t.Errorf("incomplete = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestURLPatternFindsTheDashboardsLine(t *testing.T) {
	for line, want := range map[string]string{
		"Dashboard: http://127.0.0.1:40123 (50 clusters; Ctrl-C stops it)": "http://127.0.0.1:40123",
		"Dashboard: http://localhost:9400/ (1 cluster)":                    "http://localhost:9400/",
		"connecting to https://10.0.0.1:6443":                              "",
	} {
		if got := urlPattern.FindString(line); got != want {
			t.Errorf("in %q found %q, want %q", line, got, want)
		}
	}
}
