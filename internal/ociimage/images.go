package ociimage

import (
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Paths, user and source of Flotilla's images.
const (
	// AgentPath is the agent's binary in its image, and its entrypoint.
	AgentPath = "/flotilla"
	// AppPath is the example app's binary in its image, and its entrypoint.
	AppPath = "/app"
	// AppPort is the example app's HTTP port.
	AppPort = "8080/tcp"
	// NonRootUser is the user and group the images run as: distroless's
	// "nonroot", which the agent's Deployment runs as.
	NonRootUser = "65532:65532"
	// CABundlePath is where the CA bundle is, on a Debian host and in the
	// agent's image (Go's crypto/x509 reads it there on Linux).
	CABundlePath = "/etc/ssl/certs/ca-certificates.crt"
	// SourceURL is Flotilla's repository, for the source label.
	SourceURL = "https://github.com/flotilla-io/flotilla"
)

// OCI annotation keys used as image labels.
const (
	LabelTitle       = "org.opencontainers.image.title"
	LabelDescription = "org.opencontainers.image.description"
	LabelVersion     = "org.opencontainers.image.version"
	LabelRevision    = "org.opencontainers.image.revision"
	LabelSource      = "org.opencontainers.image.source"
	LabelCreated     = "org.opencontainers.image.created"
)

// BuildInfo says which build of a program an image holds.
type BuildInfo struct {
	// Version of the program, such as v0.1.0 or v0.1.0-3-gabcdef0-dirty.
	Version string
	// Revision is the Git commit it was built from; may be empty.
	Revision string
	// Platform the binary was built for; zero means DefaultPlatform.
	Platform v1.Platform
	// Created is the image's timestamp; zero means $SOURCE_DATE_EPOCH or
	// the Unix epoch.
	Created time.Time
	// CABundle is the host's CA bundle copied into the agent's image; empty
	// means CABundlePath.
	CABundle string
}

// AgentImage returns the agent's image: the static flotilla binary at
// binPath as /flotilla (the entrypoint), the host's CA bundle so HTTPS Git
// works, /tmp, user 65532:65532 and the OCI labels of the build.
func AgentImage(binPath string, b BuildInfo) (v1.Image, error) {
	caBundle := b.CABundle
	if caBundle == "" {
		caBundle = CABundlePath
	}
	files := []File{
		{Path: AgentPath, Mode: 0o755, Source: binPath},
		{Path: CABundlePath, Mode: 0o644, Source: caBundle},
	}
	cfg, err := b.config("flotilla", "Flotilla's agent: GitOps for Kubernetes fleets", AgentPath)
	if err != nil {
		return nil, err
	}
	return Build(files, cfg)
}

// AppImage returns the example app's image (examples/app): the static
// binary at binPath as /app (the entrypoint), user 65532:65532, port 8080.
func AppImage(binPath string, b BuildInfo) (v1.Image, error) {
	cfg, err := b.config("flotilla-example-app", "Flotilla's example app, deployed by examples/fleet", AppPath)
	if err != nil {
		return nil, err
	}
	cfg.ExposedPorts = []string{AppPort}
	return FromBinary(binPath, AppPath, cfg)
}

// config is the Config of a one-program image of this build.
func (b BuildInfo) config(title, description, entrypoint string) (Config, error) {
	cfg := Config{Entrypoint: []string{entrypoint}, User: NonRootUser, Platform: b.Platform, Created: b.Created}
	created, err := cfg.created()
	if err != nil {
		return Config{}, err
	}
	cfg.Created = created
	cfg.Labels = b.labels(title, description, created)
	return cfg, nil
}

// labels are the org.opencontainers.image.* labels of the build.
func (b BuildInfo) labels(title, description string, created time.Time) map[string]string {
	l := map[string]string{
		LabelTitle:       title,
		LabelDescription: description,
		LabelSource:      SourceURL,
		LabelCreated:     created.Format(time.RFC3339),
	}
	if b.Version != "" {
		l[LabelVersion] = b.Version
	}
	if b.Revision != "" {
		l[LabelRevision] = b.Revision
	}
	return l
}
