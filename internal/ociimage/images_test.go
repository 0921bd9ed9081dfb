package ociimage

import (
	"archive/tar"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestAgentImage(t *testing.T) {
	bin := writeFile(t, "flotilla", "flotilla binary")
	ca := writeFile(t, "ca.crt", "-----BEGIN CERTIFICATE-----")
	img, err := AgentImage(bin, BuildInfo{
		Version: "v0.1.0", Revision: "0123abc", Created: release, CABundle: ca,
		Platform: v1.Platform{OS: "linux", Architecture: "arm64"},
	})
	if err != nil {
		t.Fatal(err)
	}
	cf := configFile(t, img)
	if cf.OS != "linux" || cf.Architecture != "arm64" {
		t.Errorf("platform %s/%s, want linux/arm64", cf.OS, cf.Architecture)
	}
	if !cmp.Equal(cf.Config.Entrypoint, []string{"/flotilla"}) || cf.Config.User != "65532:65532" {
		t.Errorf("entrypoint %q, user %q; want [/flotilla], 65532:65532", cf.Config.Entrypoint, cf.Config.User)
	}
	wantLabels := map[string]string{
		LabelTitle:       "flotilla",
		LabelDescription: "Flotilla's agent: GitOps for Kubernetes fleets",
		LabelVersion:     "v0.1.0",
		LabelRevision:    "0123abc",
		LabelSource:      SourceURL,
		LabelCreated:     "2026-03-01T12:00:00Z",
	}
	if diff := cmp.Diff(wantLabels, cf.Config.Labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	files := layerContents(t, img)
	wantFiles := map[string]tarFile{
		"flotilla":                          {typeflag: tar.TypeReg, mode: 0o755, data: "flotilla binary"},
		"etc/ssl/certs/ca-certificates.crt": {typeflag: tar.TypeReg, mode: 0o644, data: "-----BEGIN CERTIFICATE-----"},
		"tmp/":                              {typeflag: tar.TypeDir, mode: 0o1777},
	}
	for name, want := range wantFiles {
		if diff := cmp.Diff(want, files[name], cmp.AllowUnexported(tarFile{})); diff != "" {
			t.Errorf("/%s (-want +got):\n%s", name, diff)
		}
	}
}

func TestAgentImageUsesTheHostCABundle(t *testing.T) {
	if _, err := os.Stat(CABundlePath); err != nil {
		t.Skipf("no CA bundle on this host: %v", err)
	}
	img, err := AgentImage(writeFile(t, "flotilla", "x"), BuildInfo{Version: "dev"})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(CABundlePath)
	if got := layerContents(t, img)["etc/ssl/certs/ca-certificates.crt"].data; got != string(want) {
		t.Errorf("the image's CA bundle (%d bytes) is not the host's (%d bytes)", len(got), len(want))
	}
}

func TestAgentImageWithoutCABundle(t *testing.T) {
	_, err := AgentImage(writeFile(t, "flotilla", "x"), BuildInfo{CABundle: "/does/not/exist"})
	if err == nil {
		t.Fatal("an image without a CA bundle was built")
	}
}

func TestAppImage(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "0")
	img, err := AppImage(writeFile(t, "app", "app binary"), BuildInfo{Version: "v2"})
	if err != nil {
		t.Fatal(err)
	}
	cf := configFile(t, img)
	want := v1.Config{
		Entrypoint:   []string{"/app"},
		User:         "65532:65532",
		ExposedPorts: map[string]struct{}{"8080/tcp": {}},
		Labels: map[string]string{
			LabelTitle:       "flotilla-example-app",
			LabelDescription: "Flotilla's example app, deployed by examples/fleet",
			LabelVersion:     "v2",
			LabelSource:      SourceURL,
			LabelCreated:     time.Unix(0, 0).UTC().Format(time.RFC3339),
		},
	}
	if diff := cmp.Diff(want, cf.Config); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	if got := layerContents(t, img)["app"]; got.mode != 0o755 || got.data != "app binary" {
		t.Errorf("/app = mode %o, %q", got.mode, got.data)
	}
}
