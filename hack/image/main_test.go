package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/flotilla-io/flotilla/internal/ociimage"
	"github.com/flotilla-io/flotilla/internal/ociimage/ocitest"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

var (
	amd64 = v1.Platform{OS: "linux", Architecture: "amd64"}
	arm64 = v1.Platform{OS: "linux", Architecture: "arm64"}
)

func TestParseFlags(t *testing.T) {
	passwordFile := writeFile(t, "pw", "from-file\n")
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		check   func(t *testing.T, o options)
		wantErr string
	}{{
		name: "defaults-write-the-tarball",
		check: func(t *testing.T, o options) {
			if o.tarball != defaultTarball || o.push != "" || !cmp.Equal(o.platforms, []v1.Platform{ociimage.DefaultPlatform()}) {
				t.Errorf("tarball %q, push %q, platforms %v", o.tarball, o.push, o.platforms)
			}
		},
	}, {
		name: "push-alone-writes-no-tarball",
		args: []string{"-push", "registry.example.com/flotilla:v1"},
		env:  map[string]string{passwordEnv: "from-env"},
		check: func(t *testing.T, o options) {
			if o.tarball != "" || o.password != "from-env" {
				t.Errorf("tarball %q, password from env %v", o.tarball, o.password == "from-env")
			}
		},
	}, {
		name: "password-file-wins-over-the-environment",
		args: []string{"-push", "r/x:v1", "-password-file", passwordFile},
		env:  map[string]string{passwordEnv: "from-env"},
		check: func(t *testing.T, o options) {
			if o.password != "from-file" {
				t.Error("the password is not the file's, without its newline")
			}
		},
	}, {
		name: "several-platforms",
		args: []string{"-platforms", "linux/amd64, linux/arm64"},
		check: func(t *testing.T, o options) {
			if !cmp.Equal(o.platforms, []v1.Platform{amd64, arm64}) {
				t.Errorf("platforms = %v", o.platforms)
			}
		},
	},
		{name: "bad-platform", args: []string{"-platforms", "linux"}, wantErr: `platform "linux"`},
		{name: "binary-for-several-platforms", args: []string{"-binary", "x", "-platforms", "linux/amd64,linux/arm64"}, wantErr: "-binary is for one platform"},
		{name: "missing-password-file", args: []string{"-password-file", "/does/not/exist"}, wantErr: "-password-file"},
		{name: "arguments", args: []string{"push"}, wantErr: "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseFlags(tt.args, func(k string) string { return tt.env[k] }, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, o)
		})
	}
}

// prebuilt returns options that take a fake binary instead of building.
func prebuilt(t *testing.T, args ...string) options {
	t.Helper()
	args = append([]string{
		"-binary", writeFile(t, "flotilla", "flotilla binary"),
		"-ca-bundle", writeFile(t, "ca.crt", "CA"),
		"-version", "v0.1.0-3-gabcdef0-dirty", "-revision", "abcdef0",
	}, args...)
	o, err := parseFlags(args, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

var digestLine = regexp.MustCompile(`sha256:[0-9a-f]{64}`)

func TestRunWritesTheTarballs(t *testing.T) {
	dir := t.TempDir()
	tarball, archive := filepath.Join(dir, "image.tar"), filepath.Join(dir, "oci.tar")
	o := prebuilt(t, "-tarball", tarball, "-oci-archive", archive)
	var out bytes.Buffer
	if err := run(context.Background(), o, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"wrote " + tarball + ": ghcr.io/flotilla-io/flotilla:v0.1.0-3-gabcdef0-dirty " + ociimage.DefaultPlatform().String() + " sha256:",
		"wrote " + archive + ": ghcr.io/flotilla-io/flotilla:v0.1.0-3-gabcdef0-dirty sha256:",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output %q lacks %q", out.String(), want)
		}
	}
	for _, path := range []string{tarball, archive} {
		if _, err := os.Stat(path); err != nil {
			t.Error(err)
		}
	}
}

func TestRunPushes(t *testing.T) {
	reg := ocitest.NewRegistry(t, "ci", "registry-password")
	ref := reg.Host + "/flotilla:v0.1.0"
	o := prebuilt(t, "-push", ref, "-ca-file", reg.CAFile, "-username", "ci",
		"-password-file", writeFile(t, "pw", "registry-password"))
	var out bytes.Buffer
	if err := run(context.Background(), o, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "pushed "+ref+"@sha256:") || !digestLine.MatchString(out.String()) {
		t.Errorf("output = %q, want the pushed reference and digest", out.String())
	}
	img, err := ociimage.Pull(context.Background(), ref, ociimage.WithCAFile(reg.CAFile), ociimage.WithBasicAuth("ci", "registry-password"))
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if got := cf.Config.Labels[ociimage.LabelRevision]; got != "abcdef0" {
		t.Errorf("pushed image's revision = %q", got)
	}
}

func TestRunPushWithAWrongPassword(t *testing.T) {
	reg := ocitest.NewRegistry(t, "ci", "registry-password")
	o := prebuilt(t, "-push", reg.Host+"/flotilla:v1", "-ca-file", reg.CAFile, "-username", "ci")
	o.password = "not-the-password"
	err := run(context.Background(), o, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "refused the credentials") || strings.Contains(err.Error(), o.password) {
		t.Errorf("error = %v, want a refusal without the password", err)
	}
}

func TestWriteTarballsNamesOnePerPlatform(t *testing.T) {
	var imgs []v1.Image
	for _, p := range []v1.Platform{amd64, arm64} {
		img, err := ociimage.Build(nil, ociimage.Config{Platform: p})
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	dir := t.TempDir()
	o := options{platforms: []v1.Platform{amd64, arm64}, tarball: filepath.Join(dir, "flotilla-image.tar"), image: "ghcr.io/flotilla-io/flotilla:v1"}
	if err := o.writeTarballs(imgs, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"flotilla-image-linux-amd64.tar", "flotilla-image-linux-arm64.tar"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Error(err)
		}
	}
	if got := o.binaryPath(arm64); got != filepath.Join("", "flotilla-linux-arm64") {
		t.Errorf("binary for arm64 = %q", got)
	}
}
