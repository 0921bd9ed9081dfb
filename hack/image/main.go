// Command image builds the Flotilla agent's image from this checkout,
// without a container engine: a static flotilla binary per platform, then
// an image FROM SCRATCH (internal/ociimage.AgentImage). It pushes the image
// to a registry (-push REF) or writes a docker-archive tarball for
// `ctr images import` / `docker load` (-tarball, the default
// bin/flotilla-image.tar), and prints the reference and the digest.
//
//	go run ./hack/image -version v0.1.0
//	go run ./hack/image -push registry.example.com/flotilla:v0.1.0 -ca-file ca.pem -username ci -password-file pw
//	go run ./hack/image -platforms linux/amd64,linux/arm64 -tarball dist/flotilla-image.tar -oci-archive dist/flotilla-image-oci.tar
//
// `make image` and `make release` call it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/flotilla-io/flotilla/internal/install"
	"github.com/flotilla-io/flotilla/internal/ociimage"
)

// versionVar is the variable the version is linked into, as the Makefile does.
const versionVar = "github.com/flotilla-io/flotilla/internal/version.Version"

// passwordEnv holds the registry password when -password-file is not given.
const passwordEnv = "FLOTILLA_REGISTRY_PASSWORD"

// defaultTarball is written when nothing else is asked for.
const defaultTarball = "bin/flotilla-image.tar"

// options are the command's flags.
type options struct {
	dir, binDir, binary, caBundle    string
	version, revision                string
	platforms                        []v1.Platform
	image, push, tarball, ociArchive string
	caFile, username, passwordFile   string
	insecure                         bool
	password                         string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o, err := parseFlags(os.Args[1:], os.Getenv, os.Stderr)
	if err == nil {
		err = run(ctx, o, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

// parseFlags reads args; the password comes from -password-file or
// $FLOTILLA_REGISTRY_PASSWORD.
func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	var o options
	var platforms string
	fs := flag.NewFlagSet("image", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.dir, "dir", ".", "the module's root: the checkout to build")
	fs.StringVar(&o.binDir, "bin-dir", "bin", "where the binaries go: flotilla for one platform, flotilla-<os>-<arch> for several")
	fs.StringVar(&o.binary, "binary", "", "use this static linux binary instead of building one (one platform only)")
	fs.StringVar(&o.caBundle, "ca-bundle", ociimage.CABundlePath, "the host's CA bundle, copied into the image")
	fs.StringVar(&o.version, "version", "", "version to link and label (default: git describe --tags --always --dirty, or dev)")
	fs.StringVar(&o.revision, "revision", "", "Git commit to label (default: git rev-parse HEAD)")
	fs.StringVar(&platforms, "platforms", ociimage.DefaultPlatform().String(), "comma-separated os/arch list; several make a multi-platform index")
	fs.StringVar(&o.image, "image", "", "reference the tarball is tagged with (default "+install.ImageRepository+":<version>)")
	fs.StringVar(&o.push, "push", "", "push the image (an index for several platforms) to this reference")
	fs.StringVar(&o.tarball, "tarball", "", "write a docker-archive tarball; several platforms add -<os>-<arch> before .tar (default "+defaultTarball+" when nothing else is asked for)")
	fs.StringVar(&o.ociArchive, "oci-archive", "", "write an OCI layout archive (an index for several platforms)")
	fs.StringVar(&o.caFile, "ca-file", "", "PEM CA bundle the registry's TLS certificate is signed with")
	fs.StringVar(&o.username, "username", "", "registry user name")
	fs.StringVar(&o.passwordFile, "password-file", "", "file holding the registry password (default $"+passwordEnv+")")
	fs.BoolVar(&o.insecure, "insecure", false, "allow plain HTTP to the registry")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if err := o.complete(platforms, getenv); err != nil {
		return options{}, err
	}
	return o, nil
}

// complete parses the platforms, reads the password and fills in defaults.
func (o *options) complete(platforms string, getenv func(string) string) error {
	for _, s := range strings.Split(platforms, ",") {
		p, err := ociimage.ParsePlatform(strings.TrimSpace(s))
		if err != nil {
			return err
		}
		o.platforms = append(o.platforms, p)
	}
	if o.binary != "" && len(o.platforms) > 1 {
		return errors.New("-binary is for one platform; leave it out to build each platform's binary")
	}
	if o.push == "" && o.tarball == "" && o.ociArchive == "" {
		o.tarball = defaultTarball
	}
	o.password = getenv(passwordEnv)
	if o.passwordFile != "" {
		b, err := os.ReadFile(o.passwordFile)
		if err != nil {
			return fmt.Errorf("-password-file: %w", err)
		}
		o.password = strings.TrimRight(string(b), "\r\n")
	}
	return nil
}

// run builds the binaries and the images and writes or pushes them.
func run(ctx context.Context, o options, stdout io.Writer) error {
	o.fillFromGit(ctx)
	if o.image == "" {
		o.image = install.DefaultImage(o.version)
	}
	imgs := make([]v1.Image, 0, len(o.platforms))
	for _, p := range o.platforms {
		img, err := o.buildImage(ctx, p, stdout)
		if err != nil {
			return err
		}
		imgs = append(imgs, img)
	}
	if err := o.writeTarballs(imgs, stdout); err != nil {
		return err
	}
	artifact, err := artifactOf(imgs)
	if err != nil {
		return err
	}
	if err := o.writeOCIArchive(artifact, stdout); err != nil {
		return err
	}
	return o.pushArtifact(ctx, artifact, stdout)
}

// fillFromGit defaults the version and the revision from the checkout.
func (o *options) fillFromGit(ctx context.Context) {
	if o.version == "" {
		o.version = gitOutput(ctx, o.dir, "describe", "--tags", "--always", "--dirty")
	}
	if o.version == "" {
		o.version = "dev"
	}
	if o.revision == "" {
		o.revision = gitOutput(ctx, o.dir, "rev-parse", "HEAD")
	}
}

func gitOutput(ctx context.Context, dir string, args ...string) string {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// buildImage builds (or takes) the binary for p and returns its image.
func (o *options) buildImage(ctx context.Context, p v1.Platform, stdout io.Writer) (v1.Image, error) {
	bin := o.binary
	if bin == "" {
		bin = o.binaryPath(p)
		ldflags := "-s -w -X " + versionVar + "=" + o.version
		if err := ociimage.BuildGo(ctx, o.dir, "./cmd/flotilla", bin, ldflags, p.OS, p.Architecture); err != nil {
			return nil, err
		}
		fmt.Fprintf(stdout, "built %s (%s, %s)\n", bin, p, o.version)
	}
	return ociimage.AgentImage(bin, ociimage.BuildInfo{Version: o.version, Revision: o.revision, Platform: p, CABundle: o.caBundle})
}

// binaryPath is bin/flotilla for one platform, bin/flotilla-<os>-<arch>
// for several.
func (o *options) binaryPath(p v1.Platform) string {
	if len(o.platforms) == 1 {
		return filepath.Join(o.binDir, "flotilla")
	}
	return filepath.Join(o.binDir, "flotilla-"+platformSuffix(p))
}

func platformSuffix(p v1.Platform) string {
	return strings.ReplaceAll(p.String(), "/", "-")
}

// writeTarballs writes one docker-archive per image.
func (o *options) writeTarballs(imgs []v1.Image, stdout io.Writer) error {
	if o.tarball == "" {
		return nil
	}
	for i, img := range imgs {
		path := o.tarball
		if len(imgs) > 1 {
			ext := filepath.Ext(path)
			path = strings.TrimSuffix(path, ext) + "-" + platformSuffix(o.platforms[i]) + ext
		}
		if err := ociimage.WriteTarball(path, o.image, img); err != nil {
			return err
		}
		if err := report(stdout, "wrote "+path+": "+o.image+" "+o.platforms[i].String(), img); err != nil {
			return err
		}
	}
	return nil
}

// artifactOf is the image, or an index of the images.
func artifactOf(imgs []v1.Image) (ociimage.Artifact, error) {
	if len(imgs) == 1 {
		return imgs[0], nil
	}
	return ociimage.Index(imgs...)
}

func (o *options) writeOCIArchive(a ociimage.Artifact, stdout io.Writer) error {
	if o.ociArchive == "" {
		return nil
	}
	if err := ociimage.WriteOCIArchive(o.ociArchive, o.image, a); err != nil {
		return err
	}
	return report(stdout, "wrote "+o.ociArchive+": "+o.image, a)
}

func (o *options) pushArtifact(ctx context.Context, a ociimage.Artifact, stdout io.Writer) error {
	if o.push == "" {
		return nil
	}
	var opts []ociimage.Option
	if o.caFile != "" {
		opts = append(opts, ociimage.WithCAFile(o.caFile))
	}
	if o.username != "" || o.password != "" {
		opts = append(opts, ociimage.WithBasicAuth(o.username, o.password))
	}
	if o.insecure {
		opts = append(opts, ociimage.WithInsecure())
	}
	digest, err := ociimage.Push(ctx, a, o.push, opts...)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "pushed %s@%s\n", o.push, digest)
	return nil
}

// report prints what was written and the artifact's digest.
func report(stdout io.Writer, what string, a ociimage.Artifact) error {
	digest, err := a.Digest()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s %s\n", what, digest)
	return nil
}
