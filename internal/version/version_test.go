package version

import (
	"runtime"
	"testing"
)

func TestGetUsesLinkTimeVersion(t *testing.T) {
	old := Version
	t.Cleanup(func() { Version = old })
	Version = "v9.9.9"
	got := Get()
	if got.Version != "v9.9.9" {
		t.Errorf("Version = %q, want v9.9.9", got.Version)
	}
	if got.GoVersion != runtime.Version() {
		t.Errorf("GoVersion = %q, want %q", got.GoVersion, runtime.Version())
	}
}

func TestGetDefaultsToDev(t *testing.T) {
	old := Version
	t.Cleanup(func() { Version = old })
	Version = ""
	// A test binary's main module is "(devel)", which must not show as
	// the version either.
	if got := Get().Version; got == "" || got == "(devel)" {
		t.Errorf("Version = %q, want dev or a module version", got)
	}
}
