package ociimage

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestExposedPorts(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []string
		want map[string]struct{}
	}{
		{"none is no map", nil, nil},
		{"empty is no map", []string{}, nil},
		{"a bare number is TCP", []string{"8080"}, map[string]struct{}{"8080/tcp": {}}},
		{"a protocol is kept", []string{"53/udp", "9090/tcp"}, map[string]struct{}{"53/udp": {}, "9090/tcp": {}}},
		{"the same port twice is once", []string{"8080", "8080/tcp"}, map[string]struct{}{"8080/tcp": {}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, exposedPorts(tc.in)); diff != "" {
				t.Errorf("exposedPorts(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestConfigPlatform(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   v1.Platform
		want v1.Platform
	}{
		{"zero is the default", v1.Platform{}, DefaultPlatform()},
		{"an OS alone is kept", v1.Platform{OS: "windows"}, v1.Platform{OS: "windows"}},
		{"an architecture alone is kept", v1.Platform{Architecture: "riscv64"}, v1.Platform{Architecture: "riscv64"}},
		{"a variant alone is the default", v1.Platform{Variant: "v8"}, DefaultPlatform()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, (Config{Platform: tc.in}).platform()); diff != "" {
				t.Errorf("platform (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuildCreatedInAnotherZoneIsUTC(t *testing.T) {
	img, err := Build(nil, Config{Created: release.In(time.FixedZone("PST", -8*3600))})
	if err != nil {
		t.Fatal(err)
	}
	cf := configFile(t, img)
	if !cf.Created.Equal(release) || cf.Created.Location() != time.UTC {
		t.Errorf("created = %v, want %v in UTC", cf.Created.Time, release)
	}
	if len(cf.History) != 1 || cf.History[0].CreatedBy != historyCreatedBy || !cf.History[0].Created.Equal(release) {
		t.Errorf("history = %+v, want one step by %q at %v", cf.History, historyCreatedBy, release)
	}
	if cf.RootFS.Type != "layers" || len(cf.RootFS.DiffIDs) != 1 {
		t.Errorf("rootfs = %+v, want one layer", cf.RootFS)
	}
}

func TestParsePlatformErrorsNameTheInput(t *testing.T) {
	for _, in := range []string{"linux", "/amd64", "linux/"} {
		_, err := ParsePlatform(in)
		if err == nil || !strings.HasPrefix(err.Error(), `platform "`+in+`": `) {
			t.Errorf("ParsePlatform(%q) = %v, want an error naming the input", in, err)
		}
	}
	if _, err := ParsePlatform("linux"); err == nil || !strings.Contains(err.Error(), "want os/arch, such as linux/amd64") {
		t.Errorf("ParsePlatform(linux) = %v, want it to show the form", err)
	}
}

func TestBuildInfoLabels(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    BuildInfo
		want map[string]string
	}{
		{"no version nor revision", BuildInfo{}, map[string]string{
			LabelTitle: "tool", LabelDescription: "a tool", LabelSource: SourceURL, LabelCreated: "2026-03-01T12:00:00Z",
		}},
		{"a dirty version without revision", BuildInfo{Version: "v0.1.0-3-gabcdef0-dirty"}, map[string]string{
			LabelTitle: "tool", LabelDescription: "a tool", LabelSource: SourceURL, LabelCreated: "2026-03-01T12:00:00Z",
			LabelVersion: "v0.1.0-3-gabcdef0-dirty",
		}},
		{"a revision without version", BuildInfo{Revision: "0123abc"}, map[string]string{
			LabelTitle: "tool", LabelDescription: "a tool", LabelSource: SourceURL, LabelCreated: "2026-03-01T12:00:00Z",
			LabelRevision: "0123abc",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.b.labels("tool", "a tool", release)); diff != "" {
				t.Errorf("labels (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuildInfoConfig(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1772366400")
	cfg, err := (BuildInfo{Version: "v1"}).config("tool", "a tool", "/tool")
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Created.Equal(release) || cfg.Labels[LabelCreated] != "2026-03-01T12:00:00Z" {
		t.Errorf("created %v, label %q: want SOURCE_DATE_EPOCH's time in both", cfg.Created, cfg.Labels[LabelCreated])
	}
	if !cmp.Equal(cfg.Entrypoint, []string{"/tool"}) || cfg.User != NonRootUser {
		t.Errorf("entrypoint %q, user %q; want [/tool], %s", cfg.Entrypoint, cfg.User, NonRootUser)
	}
}

func TestImagesWithABadSourceDateEpoch(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "yesterday")
	bin := writeFile(t, "bin", "x")
	for name, build := range map[string]func() (v1.Image, error){
		"agent": func() (v1.Image, error) { return AgentImage(bin, BuildInfo{CABundle: bin}) },
		"app":   func() (v1.Image, error) { return AppImage(bin, BuildInfo{}) },
	} {
		if _, err := build(); err == nil || !strings.Contains(err.Error(), `SOURCE_DATE_EPOCH="yesterday"`) {
			t.Errorf("%s image = %v, want the bad SOURCE_DATE_EPOCH named", name, err)
		}
	}
}

func TestAgentImageWithoutCABundleNamesIt(t *testing.T) {
	_, err := AgentImage(writeFile(t, "flotilla", "x"), BuildInfo{CABundle: "/does/not/exist", Created: release})
	if want := "read /does/not/exist for " + CABundlePath + " in the image"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("AgentImage = %v, want it to start with %q", err, want)
	}
}
