package ociimage

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

const testTag = "registry.example.com/flotilla/app:v1"

func TestWriteTarball(t *testing.T) {
	img := testImage(t, "amd64")
	path := filepath.Join(t.TempDir(), "out", "image.tar")
	if err := WriteTarball(path, testTag, img); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var manifest tarball.Manifest
	if err := json.Unmarshal([]byte(readTar(t, f)["manifest.json"].data), &manifest); err != nil {
		t.Fatal(err)
	}
	if len(manifest) != 1 || !cmp.Equal(manifest[0].RepoTags, []string{testTag}) {
		t.Errorf("manifest.json = %+v, want one image tagged %s", manifest, testTag)
	}
	tag, _ := name.NewTag(testTag)
	loaded, err := tarball.ImageFromPath(path, &tag)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Image(loaded); err != nil {
		t.Errorf("loaded image is invalid: %v", err)
	}
	if got := configFile(t, loaded); got.OS != "linux" || got.Architecture != "amd64" {
		t.Errorf("loaded platform %s/%s, want linux/amd64", got.OS, got.Architecture)
	}
}

func TestWriteTarballRejectsADigest(t *testing.T) {
	err := WriteTarball(filepath.Join(t.TempDir(), "x.tar"), "registry.example.com/app@sha256:"+strings.Repeat("a", 64), testImage(t, "amd64"))
	if err == nil {
		t.Fatal("a digest reference was accepted as the tarball's tag")
	}
}

func TestIndexCarriesPlatforms(t *testing.T) {
	idx, err := Index(testImage(t, "amd64"), testImage(t, "arm64"))
	if err != nil {
		t.Fatal(err)
	}
	got := platforms(t, idx)
	if want := []string{"linux/amd64", "linux/arm64"}; !cmp.Equal(got, want) {
		t.Errorf("platforms = %v, want %v", got, want)
	}
}

func TestWriteOCILayout(t *testing.T) {
	idx, err := Index(testImage(t, "amd64"), testImage(t, "arm64"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		artifact Artifact
	}{
		{name: "image", artifact: testImage(t, "amd64")},
		{name: "index", artifact: idx},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := WriteOCILayout(dir, testTag, tt.artifact); err != nil {
				t.Fatal(err)
			}
			top, err := layout.ImageIndexFromPath(dir)
			if err != nil {
				t.Fatal(err)
			}
			m, err := top.IndexManifest()
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{containerdImageNameAnnotation: testTag, ociRefNameAnnotation: "v1"}
			if len(m.Manifests) != 1 || !cmp.Equal(m.Manifests[0].Annotations, want) {
				t.Fatalf("index.json manifests = %+v, want one annotated %v", m.Manifests, want)
			}
			if got := m.Manifests[0].Digest; got != digest(t, tt.artifact) {
				t.Errorf("index.json names %s, want %s", got, digest(t, tt.artifact))
			}
		})
	}
}

func TestWriteOCIArchiveIsReproducible(t *testing.T) {
	idx, err := Index(testImage(t, "amd64"), testImage(t, "arm64"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var archives [2][]byte
	for i := range archives {
		path := filepath.Join(dir, "oci.tar")
		if err := WriteOCIArchive(path, testTag, idx); err != nil {
			t.Fatal(err)
		}
		if archives[i], err = os.ReadFile(path); err != nil {
			t.Fatal(err)
		}
	}
	if string(archives[0]) != string(archives[1]) {
		t.Error("two archives of the same index differ")
	}
	f, err := os.Open(filepath.Join(dir, "oci.tar"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	entries := readTar(t, f)
	for _, name := range []string{"oci-layout", "index.json", "blobs/sha256/" + digest(t, idx).Hex} {
		if _, ok := entries[name]; !ok {
			t.Errorf("archive has no %s", name)
		}
	}
}

// platforms of an index, to compare.
func platforms(t *testing.T, idx v1.ImageIndex) []string {
	t.Helper()
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range m.Manifests {
		got = append(got, d.Platform.String())
	}
	return got
}
