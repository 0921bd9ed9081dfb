package install

import (
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
)

func TestImageTag(t *testing.T) {
	tests := []struct {
		name, version, want string
	}{
		{name: "release", version: "v0.1.0", want: "v0.1.0"},
		{name: "git-describe-dirty", version: "v0.1.0-3-gabcdef0-dirty", want: "v0.1.0-3-gabcdef0-dirty"},
		{name: "bare-commit", version: "0847706-dirty", want: "0847706-dirty"},
		{name: "dev", version: "dev", want: "dev"},
		{name: "empty", version: "", want: "dev"},
		{name: "go-pseudo-version-dirty", version: "v0.0.0-20260101000000-abcdef012345+dirty", want: "v0.0.0-20260101000000-abcdef012345-dirty"},
		{name: "branch-with-slash", version: "release/v1", want: "release-v1"},
		{name: "leading-dot", version: ".hidden", want: "_hidden"},
		{name: "too-long", version: strings.Repeat("a", 200), want: strings.Repeat("a", 128)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ImageTag(tt.version)
			if got != tt.want {
				t.Errorf("ImageTag(%q) = %q, want %q", tt.version, got, tt.want)
			}
			if _, err := name.NewTag(DefaultImage(tt.version), name.StrictValidation); err != nil {
				t.Errorf("DefaultImage(%q) = %q is not a valid tag: %v", tt.version, DefaultImage(tt.version), err)
			}
		})
	}
}

func TestDefaultOptionsImageIsValid(t *testing.T) {
	o := DefaultOptions()
	if !strings.HasPrefix(o.Image, ImageRepository+":") {
		t.Errorf("default image %q is not in %s", o.Image, ImageRepository)
	}
	if err := o.Validate(); err != nil {
		t.Errorf("default options: %v", err)
	}
}
