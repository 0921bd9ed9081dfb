package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/flotilla-io/flotilla/examples/app/server"
)

func TestParseOptions(t *testing.T) {
	def := server.DefaultOptions()
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    func(*server.Options)
		wantErr string
	}{
		{name: "defaults", want: func(*server.Options) {}},
		{
			name: "environment",
			env:  map[string]string{"APP_ADDR": ":9090", "APP_MESSAGE": "from env", "APP_READY_AFTER": "3s"},
			want: func(o *server.Options) { o.Addr, o.Message, o.ReadyAfter = ":9090", "from env", 3*time.Second },
		},
		{
			name: "flags-win-over-environment",
			args: []string{"-addr", ":7070", "-message", "from flag", "-drain-delay", "0s", "-name", "shop"},
			env:  map[string]string{"APP_ADDR": ":9090", "APP_MESSAGE": "from env"},
			want: func(o *server.Options) { o.Addr, o.Message, o.DrainDelay, o.Name = ":7070", "from flag", 0, "shop" },
		},
		{
			name: "failure-switches-from-the-environment",
			env:  map[string]string{"APP_ERROR_PERCENT": "30", "APP_DELAY": "250ms"},
			want: func(o *server.Options) { o.ErrorPercent, o.Delay = 30, 250*time.Millisecond },
		},
		{
			name: "failure-switches-as-flags",
			args: []string{"-error-percent", "100", "-delay", "1s"},
			env:  map[string]string{"APP_ERROR_PERCENT": "30"},
			want: func(o *server.Options) { o.ErrorPercent, o.Delay = 100, time.Second },
		},
		{name: "error-percent-above-100", env: map[string]string{"APP_ERROR_PERCENT": "101"}, wantErr: "want 0 to 100"},
		{name: "error-percent-not-a-number", env: map[string]string{"APP_ERROR_PERCENT": "half"}, wantErr: "$APP_ERROR_PERCENT"},
		{name: "negative-delay", args: []string{"-delay", "-1s"}, wantErr: "want 0 or more"},
		{name: "bad-duration-in-environment", env: map[string]string{"APP_DRAIN_DELAY": "soon"}, wantErr: "$APP_DRAIN_DELAY"},
		{name: "unknown-flag", args: []string{"-port", "1"}, wantErr: "flag provided but not defined"},
		{name: "arguments", args: []string{"serve"}, wantErr: "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseOptions(tt.args, func(k string) string { return tt.env[k] }, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := def
			tt.want(&want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}

func TestServeDrainsThenShutsDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := server.DefaultOptions()
	o.DrainDelay = 300 * time.Millisecond
	s := server.NewServer(o)
	ctx, cancel := context.WithCancel(context.Background())
	var logs bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln, s, slog.New(slog.NewTextHandler(&logs, nil))) }()
	url := "http://" + ln.Addr().String()
	if code := status(t, url+"/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz before SIGTERM = %d", code)
	}
	cancel()
	time.Sleep(50 * time.Millisecond)
	if code := status(t, url+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz while draining = %d, want 503", code)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not return after the drain delay")
	}
	if !strings.Contains(logs.String(), "draining") || !strings.Contains(logs.String(), "stopped") {
		t.Errorf("logs = %q, want draining and stopped", logs.String())
	}
}

func TestRunFailsOnABadAddress(t *testing.T) {
	err := run(context.Background(), []string{"-addr", "not-an-address"}, func(string) string { return "" }, io.Discard)
	if err == nil {
		t.Fatal("run succeeded")
	}
}

func status(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode
}

func TestGetPrintsTheBody(t *testing.T) {
	srv := httptest.NewServer(server.NewServer(server.DefaultOptions()).Handler())
	defer srv.Close()
	var out bytes.Buffer
	if err := getURL(context.Background(), srv.URL+"/version", &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"version"`) {
		t.Errorf("body = %q, want the version JSON", out.String())
	}
	if err := getURL(context.Background(), srv.URL+"/missing", &out); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("GET /missing: err = %v, want a 404 error", err)
	}
}
