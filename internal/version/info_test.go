package version

import (
	"encoding/json"
	"testing"
)

func TestInfoJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		info Info
		want string
	}{
		{"with a commit", Info{Version: "v0.1.0", GoVersion: "go1.26.8", Commit: "abc123"}, `{"version":"v0.1.0","goVersion":"go1.26.8","commit":"abc123"}`},
		{"the commit left out when unknown", Info{Version: "dev", GoVersion: "go1.26.8"}, `{"version":"dev","goVersion":"go1.26.8"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := json.Marshal(tc.info)
			if err != nil || string(got) != tc.want {
				t.Errorf("json = %s, %v; want %s", got, err, tc.want)
			}
		})
	}
}

func TestWithDefault(t *testing.T) {
	if got := withDefault(Info{GoVersion: "go1"}); got != (Info{Version: "dev", GoVersion: "go1"}) {
		t.Errorf("withDefault of an empty version = %+v, want dev", got)
	}
	if got := withDefault(Info{Version: "v1.2.3"}); got.Version != "v1.2.3" {
		t.Errorf("withDefault changed a set version to %q", got.Version)
	}
}
