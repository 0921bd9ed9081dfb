package ociimage

import (
	"archive/tar"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

var release = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestBuildConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want v1.ConfigFile
	}{{
		name: "default-platform-is-linux-on-this-arch",
		cfg:  Config{Entrypoint: []string{"/pause"}, Created: release},
		want: v1.ConfigFile{OS: "linux", Architecture: runtime.GOARCH, Config: v1.Config{Entrypoint: []string{"/pause"}}},
	}, {
		name: "every-field",
		cfg: Config{
			Entrypoint: []string{"/app"}, Cmd: []string{"-message", "hi"}, User: "65532:65532",
			Env: []string{"A=b"}, WorkingDir: "/work", ExposedPorts: []string{"8080", "9090/udp"},
			Labels:   map[string]string{"org.opencontainers.image.version": "v1"},
			Platform: v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}, Created: release,
		},
		want: v1.ConfigFile{OS: "linux", Architecture: "arm64", Variant: "v8", Config: v1.Config{
			Entrypoint: []string{"/app"}, Cmd: []string{"-message", "hi"}, User: "65532:65532",
			Env: []string{"A=b"}, WorkingDir: "/work",
			ExposedPorts: map[string]struct{}{"8080/tcp": {}, "9090/udp": {}},
			Labels:       map[string]string{"org.opencontainers.image.version": "v1"},
		}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := Build([]File{{Path: "/app", Data: []byte("x")}}, tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			cf := configFile(t, img)
			got := v1.ConfigFile{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant, Config: cf.Config}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
			if !cf.Created.Equal(release) {
				t.Errorf("created = %v, want %v", cf.Created, release)
			}
		})
	}
}

func TestBuildIsOCI(t *testing.T) {
	img, err := Build(nil, Config{})
	if err != nil {
		t.Fatal(err)
	}
	mt, err := img.MediaType()
	if err != nil || mt != types.OCIManifestSchema1 {
		t.Errorf("media type = %q, %v; want %q", mt, err, types.OCIManifestSchema1)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.Config.MediaType != types.OCIConfigJSON || m.Layers[0].MediaType != types.OCILayer {
		t.Errorf("config %q, layer %q: want OCI media types", m.Config.MediaType, m.Layers[0].MediaType)
	}
}

func TestBuildLayer(t *testing.T) {
	src := filepath.Join(t.TempDir(), "bin")
	if err := os.WriteFile(src, []byte("#!binary"), 0o600); err != nil {
		t.Fatal(err)
	}
	img, err := Build([]File{
		{Path: "/usr/local/bin/tool", Mode: 0o755, Source: src},
		{Path: "/etc/motd", Data: []byte("hello")},
	}, Config{Created: release})
	if err != nil {
		t.Fatal(err)
	}
	got := layerContents(t, img)
	want := map[string]tarFile{
		"etc/":               {typeflag: tar.TypeDir, mode: 0o755},
		"etc/motd":           {typeflag: tar.TypeReg, mode: 0o644, data: "hello"},
		"tmp/":               {typeflag: tar.TypeDir, mode: 0o1777},
		"usr/":               {typeflag: tar.TypeDir, mode: 0o755},
		"usr/local/":         {typeflag: tar.TypeDir, mode: 0o755},
		"usr/local/bin/":     {typeflag: tar.TypeDir, mode: 0o755},
		"usr/local/bin/tool": {typeflag: tar.TypeReg, mode: 0o755, data: "#!binary"},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(tarFile{})); diff != "" {
		t.Errorf("layer (-want +got):\n%s", diff)
	}
}

func TestBuildIsDeterministic(t *testing.T) {
	files := []File{{Path: "/b", Data: []byte("b")}, {Path: "/a/x", Data: []byte("x")}}
	reordered := []File{files[1], files[0]}
	build := func(files []File, cfg Config) v1.Hash {
		img, err := Build(files, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return digest(t, img)
	}
	first := build(files, Config{Created: release})
	if again := build(reordered, Config{Created: release}); again != first {
		t.Errorf("same files in another order: digest %s, want %s", again, first)
	}
	if later := build(files, Config{Created: release.Add(time.Second)}); later == first {
		t.Error("another timestamp gave the same digest")
	}
	if arm := build(files, Config{Created: release, Platform: v1.Platform{OS: "linux", Architecture: "arm64"}}); arm == first {
		t.Error("another platform gave the same digest")
	}
}

func TestBuildCreatedFromSourceDateEpoch(t *testing.T) {
	tests := []struct {
		name, epoch string
		want        time.Time
	}{
		{name: "unset-is-the-unix-epoch", epoch: "", want: time.Unix(0, 0)},
		{name: "set", epoch: "1772366400", want: release},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SOURCE_DATE_EPOCH", tt.epoch)
			img, err := Build(nil, Config{})
			if err != nil {
				t.Fatal(err)
			}
			if got := configFile(t, img).Created.Time; !got.Equal(tt.want) {
				t.Errorf("created = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestBuildRejects(t *testing.T) {
	tests := []struct {
		name    string
		files   []File
		epoch   string
		wantErr string
	}{
		{name: "relative-path", files: []File{{Path: "app"}}, wantErr: "must be absolute"},
		{name: "unclean-path", files: []File{{Path: "/a/../app"}}, wantErr: "must be absolute and clean"},
		{name: "root", files: []File{{Path: "/"}}, wantErr: "must be absolute"},
		{name: "twice", files: []File{{Path: "/app"}, {Path: "/app"}}, wantErr: "/app is in the image twice"},
		{name: "tmp-as-a-file", files: []File{{Path: "/tmp"}}, wantErr: "/tmp is in the image twice"},
		{name: "file-as-parent", files: []File{{Path: "/a"}, {Path: "/a/b"}}, wantErr: "/a is a file and the parent directory of /a/b"},
		{name: "missing-source", files: []File{{Path: "/app", Source: "/does/not/exist"}}, wantErr: "read /does/not/exist for /app"},
		{name: "bad-source-date-epoch", epoch: "yesterday", wantErr: "SOURCE_DATE_EPOCH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SOURCE_DATE_EPOCH", tt.epoch)
			_, err := Build(tt.files, Config{})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestFromBinary(t *testing.T) {
	src := filepath.Join(t.TempDir(), "pause")
	if err := os.WriteFile(src, []byte("ELF"), 0o644); err != nil {
		t.Fatal(err)
	}
	img, err := FromBinary(src, "/pause", Config{Entrypoint: []string{"/pause"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := layerContents(t, img)["pause"]; got.mode != 0o755 || got.data != "ELF" {
		t.Errorf("/pause = mode %o, %q; want 0755, ELF", got.mode, got.data)
	}
}

func TestParsePlatform(t *testing.T) {
	tests := []struct {
		in      string
		want    v1.Platform
		wantErr bool
	}{
		{in: "linux/amd64", want: v1.Platform{OS: "linux", Architecture: "amd64"}},
		{in: "linux/arm64/v8", want: v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}},
		{in: "linux", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParsePlatform(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("platform (-want +got):\n%s", diff)
			}
		})
	}
}
