package registry_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flotilla-io/flotilla/internal/image/registry"
)

func TestCanonicalNames(t *testing.T) {
	tests := []struct{ image, want string }{
		{"nginx", "index.docker.io/library/nginx"},
		{"docker.io/org/app", "index.docker.io/org/app"},
		{"ghcr.io/org/team/app", "ghcr.io/org/team/app"},
		{"localhost:5000/app", "localhost:5000/app"},
	}
	for _, tt := range tests {
		c, err := registry.New(tt.image)
		if err != nil {
			t.Fatalf("%s: %v", tt.image, err)
		}
		if got := c.CanonicalName(); got != tt.want {
			t.Errorf("CanonicalName(%s) = %q, want %q", tt.image, got, tt.want)
		}
	}
}

func TestInvalidImagesNeverShowCredentials(t *testing.T) {
	for _, image := range []string{
		"https://user:s3cret-in-url@reg.example.com/app",
		"reg.example.com/app:tag",
		"reg.example.com/App",
		"",
	} {
		_, err := registry.New(image)
		var re *registry.Error
		if !errors.As(err, &re) || !errors.Is(err, registry.ErrInvalidImage) || re.Op != "parse" {
			t.Errorf("New(%q) = %v, want a parse error of kind ErrInvalidImage", image, err)
			continue
		}
		if strings.Contains(err.Error(), "s3cret-in-url") {
			t.Errorf("error %q holds the password of the URL", err)
		}
	}
}

func TestDefaultPageSizeIsAskedFor(t *testing.T) {
	ts := newTagServer(t, map[string]page{"": {tags: []string{"a"}}})
	if _, err := ts.client(t).ListTags(context.Background(), nil, 10); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"n=1000"}, ts.requests()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestExcluder(t *testing.T) {
	keep, err := registry.Excluder([]string{`^sha256-`, `\.sig$`, `-rc`})
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]bool{
		"1.0.0":                  true,
		"sha256-abc.sig":         false,
		"1.0.0.sig":              false,
		"1.0.0-rc.1":             false,
		"release-candidate":      true,
		"prefix-sha256-abc-keep": true,
	}
	for tag, want := range tests {
		if got := keep(tag); got != want {
			t.Errorf("keep(%q) = %v, want %v", tag, got, want)
		}
	}
	none, err := registry.Excluder(nil)
	if err != nil || !none("anything") {
		t.Errorf("no patterns: keep = %v, %v", none("anything"), err)
	}
	_, err = registry.Excluder([]string{`ok`, `x`, `a{2,1}`})
	var pe *registry.PatternError
	if !errors.As(err, &pe) || pe.Field != "spec.exclusionList[2]" || pe.Pattern != "a{2,1}" || pe.Unwrap() == nil {
		t.Fatalf("error = %v", err)
	}
	if !strings.HasPrefix(err.Error(), `spec.exclusionList[2]: "a{2,1}" is not a valid regular expression: `) {
		t.Errorf("message = %q", err)
	}
}
