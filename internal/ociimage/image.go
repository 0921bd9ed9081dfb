package ociimage

import (
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// File is one regular file of an image's layer.
type File struct {
	// Path is the absolute path in the image, such as /flotilla.
	Path string
	// Mode holds the permission bits (and setuid, setgid, sticky); zero
	// means 0644.
	Mode fs.FileMode
	// Source is a file on the host to copy; when empty, Data is the
	// content.
	Source string
	// Data is the content when Source is empty.
	Data []byte
}

// Config is the image's runtime configuration and metadata.
type Config struct {
	// Entrypoint and Cmd, as in a Dockerfile's exec form.
	Entrypoint, Cmd []string
	// User the process runs as, such as "65532:65532".
	User string
	// Env holds KEY=value pairs.
	Env []string
	// WorkingDir of the process; empty means /.
	WorkingDir string
	// ExposedPorts such as "8080/tcp"; a bare number means TCP.
	ExposedPorts []string
	// Labels of the image, such as org.opencontainers.image.version.
	Labels map[string]string
	// Platform the image runs on; zero means linux and the running
	// program's architecture.
	Platform v1.Platform
	// Created is the image's timestamp and the layer's file times; zero
	// means $SOURCE_DATE_EPOCH, or the Unix epoch when it is unset.
	Created time.Time
}

// historyCreatedBy goes into the image's history, as a Dockerfile step would.
const historyCreatedBy = "flotilla ociimage: files FROM scratch"

// Build returns a single-layer OCI image holding files, configured by cfg.
// The same files and cfg always give the same digest.
func Build(files []File, cfg Config) (v1.Image, error) {
	created, err := cfg.created()
	if err != nil {
		return nil, err
	}
	layer, err := newLayer(files, created)
	if err != nil {
		return nil, err
	}
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err = mutate.ConfigFile(img, cfg.configFile(created))
	if err != nil {
		return nil, fmt.Errorf("set the image's config: %w", err)
	}
	return mutate.Append(img, mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History:   v1.History{Created: v1.Time{Time: created}, CreatedBy: historyCreatedBy},
	})
}

// FromBinary returns an image holding the host file binPath at path (mode
// 0755), configured by cfg: the shape of an image of one static program.
func FromBinary(binPath, path string, cfg Config) (v1.Image, error) {
	return Build([]File{{Path: path, Mode: 0o755, Source: binPath}}, cfg)
}

// DefaultPlatform is linux on the running program's architecture.
func DefaultPlatform() v1.Platform {
	return v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
}

// ParsePlatform parses os/arch[/variant], such as linux/arm64.
func ParsePlatform(s string) (v1.Platform, error) {
	p, err := v1.ParsePlatform(s)
	if err != nil {
		return v1.Platform{}, fmt.Errorf("platform %q: %w", s, err)
	}
	if p.OS == "" || p.Architecture == "" {
		return v1.Platform{}, fmt.Errorf("platform %q: want os/arch, such as linux/amd64", s)
	}
	return *p, nil
}

func (c Config) platform() v1.Platform {
	if c.Platform.OS == "" && c.Platform.Architecture == "" {
		return DefaultPlatform()
	}
	return c.Platform
}

func (c Config) created() (time.Time, error) {
	if !c.Created.IsZero() {
		return c.Created.UTC(), nil
	}
	return sourceDateEpoch()
}

// sourceDateEpoch reads $SOURCE_DATE_EPOCH (reproducible-builds.org), or
// returns the Unix epoch when it is unset.
func sourceDateEpoch() (time.Time, error) {
	v := os.Getenv("SOURCE_DATE_EPOCH")
	if v == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	sec, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q is not a number of seconds: %w", v, err)
	}
	return time.Unix(sec, 0).UTC(), nil
}

func (c Config) configFile(created time.Time) *v1.ConfigFile {
	p := c.platform()
	return &v1.ConfigFile{
		Architecture: p.Architecture,
		OS:           p.OS,
		OSVersion:    p.OSVersion,
		Variant:      p.Variant,
		Created:      v1.Time{Time: created},
		RootFS:       v1.RootFS{Type: "layers"},
		Config: v1.Config{
			Entrypoint:   c.Entrypoint,
			Cmd:          c.Cmd,
			User:         c.User,
			Env:          c.Env,
			WorkingDir:   c.WorkingDir,
			ExposedPorts: exposedPorts(c.ExposedPorts),
			Labels:       c.Labels,
		},
	}
}

func exposedPorts(ports []string) map[string]struct{} {
	if len(ports) == 0 {
		return nil
	}
	m := make(map[string]struct{}, len(ports))
	for _, p := range ports {
		if !strings.Contains(p, "/") {
			p += "/tcp"
		}
		m[p] = struct{}{}
	}
	return m
}
