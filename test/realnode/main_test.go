// Package realnode runs Flotilla on a real single-node cluster (internal/localnode):
// the agent as a Pod from the image built from this checkout and pushed to
// the node's registry, and workloads that really run.
package realnode

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/flotilla-io/flotilla/internal/localnode"
	"github.com/flotilla-io/flotilla/internal/ociimage"
	"github.com/flotilla-io/flotilla/test/controlplane"
)

var (
	cluster *localnode.Cluster
	// flotillaBin is the CLI built once for the tests.
	flotillaBin string
	// agentImage and appImage are in the node's registry.
	agentImage, appImage string
	// buildDir holds the binaries the tests build.
	buildDir string
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	flag.Parse()
	if testing.Short() {
		return m.Run()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "flotilla-realnode-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if cluster, err = localnode.Start(ctx, localnode.Options{}); err != nil {
		fmt.Fprintln(os.Stderr, "real-node tests need the test ground:", err)
		return 1
	}
	defer func() {
		if err := cluster.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping the node:", err)
		}
	}()
	if err := buildImages(ctx, dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// buildImages builds the flotilla binary and the example app from the
// checkout, and pushes the agent's and the app's images to the node's
// registry.
func buildImages(ctx context.Context, dir string) error {
	buildDir = dir
	root := controlplane.ModuleRoot()
	flotillaBin = filepath.Join(dir, "flotilla")
	const version = "v0.0.0-realnode"
	ldflags := "-s -w -X github.com/flotilla-io/flotilla/internal/version.Version=" + version
	if err := ociimage.BuildGo(ctx, root, "./cmd/flotilla", flotillaBin, ldflags, "linux", runtime.GOARCH); err != nil {
		return err
	}
	info := ociimage.BuildInfo{Version: version}
	agent, err := ociimage.AgentImage(flotillaBin, info)
	if err != nil {
		return err
	}
	app, err := appImageOf(ctx, "v1")
	if err != nil {
		return err
	}
	agentImage = cluster.Registry.Host + "/flotilla:" + version
	appImage = cluster.Registry.Host + "/app:v1"
	for ref, img := range map[string]v1.Image{agentImage: agent, appImage: app} {
		if _, err := cluster.Push(ctx, img, ref); err != nil {
			return err
		}
	}
	return nil
}

// appImageOf builds the example app from the checkout with its version set
// to version, as an image.
func appImageOf(ctx context.Context, version string) (v1.Image, error) {
	bin := filepath.Join(buildDir, "app-"+version)
	if err := ociimage.BuildGo(ctx, controlplane.ModuleRoot(), "./examples/app", bin, "-s -w -X main.version="+version, "linux", runtime.GOARCH); err != nil {
		return nil, err
	}
	return ociimage.AppImage(bin, ociimage.BuildInfo{Version: version})
}
