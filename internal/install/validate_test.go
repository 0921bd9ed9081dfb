package install

import (
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
)

func TestValidateSaysWhichOptionAndWhy(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Options)
		want   string
	}{
		{"an upper-case namespace", func(o *Options) { o.Namespace = "Flotilla" }, `namespace "Flotilla" is not a valid namespace name: a lowercase RFC 1123 label`},
		{"an empty namespace", func(o *Options) { o.Namespace = "" }, `namespace "" is not a valid namespace name`},
		{"a namespace of 64 characters", func(o *Options) { o.Namespace = strings.Repeat("n", 64) }, "must be no more than 63 characters"},
		{"no image", func(o *Options) { o.Image = "" }, "image is empty: pass --image, for example " + ImageRepository + ":"},
		{"an image with a +", func(o *Options) { o.Image = ImageRepository + ":v0.1.0+dirty" }, `image "` + ImageRepository + `:v0.1.0+dirty" is not an image reference such as ` + ImageRepository + ":"},
		{"an image with upper case", func(o *Options) { o.Image = "GHCR.io/Flotilla:v1" }, "is not an image reference"},
		{"zero replicas", func(o *Options) { o.Replicas = 0 }, "replicas must be at least 1, got 0"},
		{"negative replicas", func(o *Options) { o.Replicas = -2 }, "replicas must be at least 1, got -2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := pinnedOptions()
			tc.mutate(&o)
			err := o.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate = %v, want an error holding %q", err, tc.want)
			}
		})
	}
}

func TestValidateAcceptsWhatTheAgentRunsWith(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Options)
	}{
		{"a digest", func(o *Options) {
			o.Image = "registry.example:5000/flotilla@sha256:" + strings.Repeat("ab", 32)
		}},
		{"an image without a tag", func(o *Options) { o.Image = "flotilla" }},
		{"a namespace of 63 characters", func(o *Options) { o.Namespace = strings.Repeat("n", 63) }},
		{"three replicas", func(o *Options) { o.Replicas = 3 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := pinnedOptions()
			tc.mutate(&o)
			if err := o.Validate(); err != nil {
				t.Errorf("Validate = %v, want nil", err)
			}
		})
	}
}

func TestImageTagEdges(t *testing.T) {
	for _, tc := range []struct {
		name, version, want string
	}{
		{"a leading dash", "-rc1", "_rc1"},
		{"a leading plus", "+build", "_build"},
		{"a leading underscore stays", "_x", "_x"},
		{"each byte of a non-ASCII character", "v1-é", "v1---"},
		{"spaces", "my build 1", "my-build-1"},
		{"exactly 128 characters", strings.Repeat("b", 128), strings.Repeat("b", 128)},
		{"cut after the leading fix", "." + strings.Repeat("c", 130), "_" + strings.Repeat("c", 127)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ImageTag(tc.version); got != tc.want {
				t.Errorf("ImageTag(%q) = %q, want %q", tc.version, got, tc.want)
			}
		})
	}
}

// tagPattern is the OCI distribution spec's tag grammar.
var tagPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// FuzzImageTag: any version gives a tag the registries accept, and a
// version that is already a valid tag stays as it is.
func FuzzImageTag(f *testing.F) {
	for _, seed := range []string{"v0.1.0", "v0.1.0-3-gabcdef0-dirty", "", ".x", "release/v1", "v0.0.0-2026+dirty", "é"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, version string) {
		tag := ImageTag(version)
		if !tagPattern.MatchString(tag) {
			t.Fatalf("ImageTag(%q) = %q breaks the tag grammar", version, tag)
		}
		if _, err := name.NewTag(DefaultImage(version), name.StrictValidation); err != nil {
			t.Errorf("DefaultImage(%q) = %q: %v", version, DefaultImage(version), err)
		}
		if tagPattern.MatchString(version) && tag != version {
			t.Errorf("ImageTag(%q) = %q, want a valid tag unchanged", version, tag)
		}
	})
}
