package ociimage

import (
	"archive/tar"
	"io"
	"io/fs"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestFileMode(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   fs.FileMode
		want fs.FileMode
	}{
		{"zero is 0644", 0, 0o644},
		{"an executable", 0o755, 0o755},
		{"owner only", 0o600, 0o600},
		{"setuid is kept", fs.ModeSetuid | 0o755, fs.ModeSetuid | 0o755},
		{"setgid and sticky are kept", fs.ModeSetgid | fs.ModeSticky | 0o750, fs.ModeSetgid | fs.ModeSticky | 0o750},
		{"the type bits are dropped", fs.ModeDir | fs.ModeSymlink | 0o700, 0o700},
		{"only type bits is zero, so 0644", fs.ModeDir, 0o644},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := (File{Mode: tc.in}).mode(); got != tc.want {
				t.Errorf("mode of %v = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestTarMode(t *testing.T) {
	for _, tc := range []struct {
		in   fs.FileMode
		want int64
	}{
		{0o644, 0o644},
		{fs.ModeDir | 0o755, 0o755},
		{tmpMode, 0o1777},
		{fs.ModeSetuid | 0o755, 0o4755},
		{fs.ModeSetgid | 0o755, 0o2755},
		{fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky | 0o777, 0o7777},
	} {
		if got := tarMode(tc.in); got != tc.want {
			t.Errorf("tarMode(%v) = %o, want %o", tc.in, got, tc.want)
		}
	}
}

func TestLayerPath(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"/flotilla", "flotilla"},
		{"/etc/ssl/certs/ca-certificates.crt", "etc/ssl/certs/ca-certificates.crt"},
		{"/", ""},
		{"flotilla", ""},
		{"./flotilla", ""},
		{"/etc/", ""},
		{"//etc", ""},
		{"/etc/./motd", ""},
		{"/etc/../motd", ""},
		{"", ""},
	} {
		got, err := layerPath(tc.in)
		if tc.want == "" {
			want := `path "` + tc.in + `" in the image must be absolute and clean, such as /flotilla`
			if err == nil || err.Error() != want {
				t.Errorf("layerPath(%q) = %q, %v; want the error %q", tc.in, got, err, want)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("layerPath(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// tarHeaders reads the headers of the single layer of files built at
// created, in the order they are written.
func tarHeaders(t *testing.T, files []File, created time.Time) []*tar.Header {
	t.Helper()
	img, err := Build(files, Config{Created: created})
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var out []*tar.Header
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, h)
	}
}

func TestLayerEntriesAreSortedOwnedByRootAndDatedCreated(t *testing.T) {
	local := time.Date(2026, 3, 1, 13, 0, 0, 0, time.FixedZone("CET", 3600))
	headers := tarHeaders(t, []File{
		{Path: "/usr/bin/tool", Mode: fs.ModeSetuid | 0o755, Data: []byte("x")},
		{Path: "/etc/empty"},
		{Path: "/a", Data: []byte("first")},
	}, local)
	var names []string
	for _, h := range headers {
		names = append(names, h.Name)
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" {
			t.Errorf("%s is owned by %d:%d (%q:%q), want root, without names", h.Name, h.Uid, h.Gid, h.Uname, h.Gname)
		}
		if !h.ModTime.Equal(release) {
			t.Errorf("%s is dated %v, want the image's creation %v", h.Name, h.ModTime, release)
		}
	}
	want := []string{"a", "etc/", "etc/empty", "tmp/", "usr/", "usr/bin/", "usr/bin/tool"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("entries in the layer (-want +got):\n%s", diff)
	}
	byName := map[string]*tar.Header{}
	for _, h := range headers {
		byName[h.Name] = h
	}
	if h := byName["usr/bin/tool"]; h.Mode != 0o4755 || h.Size != 1 {
		t.Errorf("/usr/bin/tool: mode %o, size %d; want setuid 4755, 1 byte", h.Mode, h.Size)
	}
	if h := byName["etc/empty"]; h.Typeflag != tar.TypeReg || h.Mode != 0o644 || h.Size != 0 {
		t.Errorf("/etc/empty: type %c, mode %o, size %d; want an empty 0644 regular file", h.Typeflag, h.Mode, h.Size)
	}
}

func TestFileInsideTmpKeepsTmpSticky(t *testing.T) {
	files := layerContents(t, mustBuild(t, []File{{Path: "/tmp/seed", Data: []byte("s")}}))
	if got := files["tmp/"]; got.typeflag != tar.TypeDir || got.mode != 0o1777 {
		t.Errorf("/tmp with a file in it: type %c, mode %o; want a 1777 directory", got.typeflag, got.mode)
	}
	if got := files["tmp/seed"]; got.data != "s" {
		t.Errorf("/tmp/seed = %q", got.data)
	}
}

func TestDirectoryAsAParentOfAFileIsAnError(t *testing.T) {
	_, err := Build([]File{{Path: "/etc/motd/extra", Data: []byte("x")}, {Path: "/etc/motd", Data: []byte("y")}}, Config{Created: release})
	if want := "/etc/motd is a file and the parent directory of /etc/motd/extra"; err == nil || err.Error() != want {
		t.Errorf("Build = %v, want %q (whatever the order of the files)", err, want)
	}
}

// mustBuild builds files at release.
func mustBuild(t *testing.T, files []File) v1.Image {
	t.Helper()
	img, err := Build(files, Config{Created: release})
	if err != nil {
		t.Fatal(err)
	}
	return img
}
