package localnode

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/flotilla-io/flotilla/internal/ociimage"
	"github.com/flotilla-io/flotilla/internal/testground"
)

// pauseImage is the sandbox image of every Pod: internal/localnode/pause, built
// from the checkout and imported into containerd (nothing is pulled).
const pauseImage = "flotilla.local/pause:test"

// importPause builds the pause program, packs it as a one-layer image and
// imports it into the node's containerd, in the namespace the CRI uses.
func (c *Cluster) importPause(ctx context.Context) error {
	bin := c.path("images", "pause")
	if err := ociimage.BuildGo(ctx, testground.ModuleRoot(), "./internal/localnode/pause", bin, "-s -w", "linux", runtime.GOARCH); err != nil {
		return err
	}
	img, err := ociimage.FromBinary(bin, "/pause", ociimage.Config{Entrypoint: []string{"/pause"}})
	if err != nil {
		return err
	}
	return c.ImportImage(ctx, pauseImage, img)
}

// ImportImage puts img into the node's containerd under ref, as if it had
// been pulled: Pods that name ref with imagePullPolicy IfNotPresent start
// from it without a registry.
func (c *Cluster) ImportImage(ctx context.Context, ref string, img v1.Image) error {
	tarball := c.path("images", filepath.Base(ref)+".tar")
	if err := ociimage.WriteTarball(tarball, ref, img); err != nil {
		return err
	}
	out, err := exec.CommandContext(ctx, "ctr", "--address", c.socket, "-n", "k8s.io",
		"images", "import", "--all-platforms", tarball).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ctr images import %s: %v: %s", ref, err, out)
	}
	return nil
}

// Push pushes img to the node's registry as ref (which names
// Registry.Host), trusting its CA and with its credentials.
func (c *Cluster) Push(ctx context.Context, img v1.Image, ref string) (v1.Hash, error) {
	return ociimage.Push(ctx, img, ref, ociimage.WithCAFile(c.Registry.CAFile),
		ociimage.WithBasicAuth(c.Registry.Username, c.Registry.Password))
}
