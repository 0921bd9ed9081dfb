// Package version reports the build of the flotilla binary. Version is set
// at link time (-X); without it the module version from the build info is used.
package version

import "runtime/debug"

// Version is the release, set with -ldflags "-X .../internal/version.Version=v0.1.0".
var Version = ""

// Info describes this build.
type Info struct {
	Version   string `json:"version"`
	GoVersion string `json:"goVersion"`
	Commit    string `json:"commit,omitempty"`
}

// Get returns the build's Info.
func Get() Info {
	info := Info{Version: Version}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return withDefault(info)
	}
	info.GoVersion = bi.GoVersion
	if info.Version == "" && bi.Main.Version != "(devel)" {
		info.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			info.Commit = s.Value
		}
	}
	return withDefault(info)
}

func withDefault(i Info) Info {
	if i.Version == "" {
		i.Version = "dev"
	}
	return i
}
