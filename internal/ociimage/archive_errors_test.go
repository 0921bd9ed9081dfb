package ociimage

import (
	"archive/tar"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// manifestOnly is an Artifact that is neither an image nor an index.
type manifestOnly struct{}

func (manifestOnly) Digest() (v1.Hash, error)            { return v1.Hash{}, nil }
func (manifestOnly) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }
func (manifestOnly) RawManifest() ([]byte, error)        { return []byte("{}"), nil }

func TestWriteOCILayoutRefuses(t *testing.T) {
	for _, tc := range []struct {
		name     string
		ref      string
		artifact Artifact
		want     string
	}{
		{"a reference that is not a tag", "registry.example.com/app@sha256:" + strings.Repeat("a", 64), testImage(t, "amd64"), `layout ref "registry.example.com/app@sha256:` + strings.Repeat("a", 64) + `": `},
		{"an artifact of another kind", testTag, manifestOnly{}, "ociimage.manifestOnly is neither an image nor an index"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "layout")
			err := WriteOCILayout(dir, tc.ref, tc.artifact)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("WriteOCILayout = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestWriteTarballRefusals(t *testing.T) {
	img := testImage(t, "amd64")
	err := WriteTarball(filepath.Join(t.TempDir(), "x.tar"), "Not A Tag", img)
	if err == nil || !strings.HasPrefix(err.Error(), `tarball tag "Not A Tag": `) {
		t.Errorf("WriteTarball with a bad tag = %v, want an error naming the tag", err)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteTarball(filepath.Join(file, "image.tar"), testTag, img); err == nil {
		t.Error("WriteTarball under a file succeeded")
	}
}

func TestIndexOfNoImagesIsAnEmptyOCIIndex(t *testing.T) {
	idx, err := Index()
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if mt, _ := idx.MediaType(); mt != types.OCIImageIndex || len(m.Manifests) != 0 {
		t.Errorf("empty index: media type %q, %d manifests; want an OCI index of none", mt, len(m.Manifests))
	}
}

func TestIndexKeepsTheVariant(t *testing.T) {
	img, err := Build(nil, Config{Created: release, Platform: v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}})
	if err != nil {
		t.Fatal(err)
	}
	idx, err := Index(img)
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	want := &v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}
	if diff := cmp.Diff(want, m.Manifests[0].Platform); diff != "" {
		t.Errorf("platform (-want +got):\n%s", diff)
	}
}

func TestWriteOCIArchiveEntriesAreDatedAndModed(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1772366400")
	path := filepath.Join(t.TempDir(), "nested", "oci.tar")
	if err := WriteOCIArchive(path, testTag, testImage(t, "amd64")); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		wantMode := int64(0o644)
		if h.Typeflag == tar.TypeDir {
			wantMode = 0o755
		}
		if !h.ModTime.Equal(release) || h.Mode != wantMode {
			t.Errorf("%s: dated %v, mode %o; want %v, %o", h.Name, h.ModTime, h.Mode, release, wantMode)
		}
		if strings.HasPrefix(h.Name, "/") || strings.Contains(h.Name, "ociimage-layout-") {
			t.Errorf("entry %q names the temporary directory", h.Name)
		}
	}
	for i := 1; i < len(names); i++ {
		if names[i-1] >= names[i] {
			t.Errorf("entries out of lexical order: %q before %q", names[i-1], names[i])
		}
	}
	if len(names) == 0 || names[0] != "blobs/" {
		t.Errorf("entries = %v, want blobs/ first", names)
	}
}

func TestWriteOCIArchiveWithABadSourceDateEpoch(t *testing.T) {
	img := testImage(t, "amd64") // built before the variable is bad
	t.Setenv("SOURCE_DATE_EPOCH", "tomorrow")
	path := filepath.Join(t.TempDir(), "oci.tar")
	err := WriteOCIArchive(path, testTag, img)
	if err == nil || !strings.HasPrefix(err.Error(), `SOURCE_DATE_EPOCH="tomorrow" is not a number of seconds`) {
		t.Errorf("WriteOCIArchive = %v, want the bad SOURCE_DATE_EPOCH named", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("an archive was written anyway: %v", err)
	}
}

func TestSourceDateEpoch(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  time.Time
		err   bool
	}{
		{"", time.Unix(0, 0), false},
		{"0", time.Unix(0, 0), false},
		{"1772366400", release, false},
		{"-1", time.Unix(-1, 0), false},
		{"1.5", time.Time{}, true},
		{" 1772366400", time.Time{}, true},
	} {
		t.Run(tc.value, func(t *testing.T) {
			t.Setenv("SOURCE_DATE_EPOCH", tc.value)
			got, err := sourceDateEpoch()
			if (err != nil) != tc.err || !got.Equal(tc.want) || got.Location() != time.UTC {
				t.Errorf("sourceDateEpoch() = %v, %v; want %v in UTC (error %t)", got, err, tc.want, tc.err)
			}
		})
	}
}
