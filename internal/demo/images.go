package demo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/internal/ociimage"
)

// The image automation the demo shows on staging: examples/fleet's
// clusters/staging/images.yaml follows the app's 1.x tags into
// apps/overlays/staging.
const (
	// appNextTag is the tag the demo pushes for staging to follow.
	appNextTag        = "v1.1.0"
	stagingImages     = "clusters/staging/images.yaml"
	imageUpdateAuthor = "Flotilla"
	// Secrets the demo creates on staging for the node's registry.
	registrySecret   = "registry"
	registryCASecret = "registry-ca"
)

// buildApp builds the example app at version from the checkout at root,
// as a static Linux binary at bin, and packs it as an image.
func buildApp(ctx context.Context, root, bin, version string) (v1.Image, error) {
	if err := ociimage.BuildGo(ctx, root, "./examples/app", bin, "-s -w -X main.version="+version, "linux", runtime.GOARCH); err != nil {
		return nil, err
	}
	return ociimage.AppImage(bin, ociimage.BuildInfo{Version: version})
}

// pointAtRegistry makes staging pull the app from the node's registry and
// its image automation scan that registry, in the demo's copy of the fleet
// (Git names the published image; this machine cannot reach it).
func pointAtRegistry(work, registry string) error {
	edits := []struct{ file, old, new string }{
		{stagingApps, "  - name: " + appImageName + "\n",
			"  - name: " + appImageName + "\n    # The demo pulls the app from its local registry.\n    newName: " + registry + "/example-app\n"},
		{stagingImages, "  image: " + appImageName + "\n  interval: 5m\n",
			"  image: " + registry + "/example-app\n  interval: 2s\n" +
				"  secretRef:\n    name: " + registrySecret + "\n  certSecretRef:\n    name: " + registryCASecret + "\n"},
	}
	for _, e := range edits {
		if err := replaceInFile(filepath.Join(work, filepath.FromSlash(e.file)), e.old, e.new); err != nil {
			return err
		}
	}
	return nil
}

// replaceInFile replaces the first old in the file at p with new, and
// fails when old is not there.
func replaceInFile(p, old, new string) error {
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	if !strings.Contains(string(b), old) {
		return fmt.Errorf("%s does not contain %q", p, old)
	}
	return os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o644)
}

// registrySecrets gives staging's agent the node registry's credentials
// (a dockerconfigjson Secret) and CA, which the ImageRepository names.
func (f *fleet) registrySecrets(ctx context.Context, c *cluster) error {
	reg := c.node.Registry
	ca, err := os.ReadFile(reg.CAFile)
	if err != nil {
		return err
	}
	auth := base64.StdEncoding.EncodeToString([]byte(reg.Username + ":" + reg.Password))
	cfg, err := json.Marshal(map[string]any{"auths": map[string]any{reg.Host: map[string]string{"auth": auth}}})
	if err != nil {
		return err
	}
	for _, s := range []*corev1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Namespace: Namespace, Name: registrySecret}, Type: corev1.SecretTypeDockerConfigJson,
			Data: map[string][]byte{corev1.DockerConfigJsonKey: cfg}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: Namespace, Name: registryCASecret}, Data: map[string][]byte{"ca.crt": ca}},
	} {
		if err := c.client.Create(ctx, s); err != nil {
			return fmt.Errorf("creating Secret %s/%s on %s: %w", s.Namespace, s.Name, c.name, err)
		}
	}
	return nil
}

// followNewTag pushes a new tag of the app to the node's registry and
// shows it become a commit (written by the ImageUpdate) and then the
// running version on staging.
func (f *fleet) followNewTag(ctx context.Context) error {
	c := f.nodeCluster()
	if c == nil {
		return nil
	}
	root, err := checkoutRoot()
	if err != nil {
		return err
	}
	before, err := f.repo.head(ctx)
	if err != nil {
		return err
	}
	img, err := buildApp(ctx, root, filepath.Join(f.dir, "images", "app-"+appNextTag), appNextTag)
	if err != nil {
		return err
	}
	ref := c.node.Registry.Host + "/example-app:" + appNextTag
	if _, err := c.node.Push(ctx, img, ref); err != nil {
		return err
	}
	pushed := time.Now()
	fmt.Fprintf(f.o.Out, "\nA new tag of the app in the registry: %s\n", ref)
	sha, err := f.waitImageCommit(ctx, before)
	if err != nil {
		return err
	}
	msg, _ := f.repo.git(ctx, f.repo.bare(), "log", "-1", "--format=%an: %s", sha)
	f.o.Report.Step("✔ ImagePolicy %s/hello chose %s; ImageUpdate committed %s to main %s later (%s)", Namespace, appNextTag, short(sha), since(pushed), msg)
	// The ImageUpdate asked staging's GitRepository to fetch; the other
	// clusters are asked as a webhook would.
	if err := f.requestFetches(ctx); err != nil {
		return err
	}
	if err := f.repo.pull(ctx); err != nil {
		return err
	}
	if err := f.converge(ctx, sha, "following the new tag"); err != nil {
		return err
	}
	if err := f.waitAvailable(ctx, c); err != nil {
		return err
	}
	return f.showAnswerWith(ctx, c, `"version":"`+appNextTag+`"`)
}

// waitImageCommit waits until main moves past before with a commit by the
// ImageUpdate, and returns it.
func (f *fleet) waitImageCommit(ctx context.Context, before string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, f.o.Wait)
	defer cancel()
	for {
		sha, err := f.repo.head(ctx)
		if err == nil && sha != before {
			author, aerr := f.repo.git(ctx, f.repo.bare(), "log", "-1", "--format=%an", sha)
			if aerr == nil && author == imageUpdateAuthor {
				return sha, nil
			}
		}
		f.o.Report.Waiting("waiting for the ImageUpdate on staging to commit %s", appNextTag)
		if err := f.pause(ctx); err != nil {
			return "", fmt.Errorf("no commit of %s by the ImageUpdate on staging: %w (agent logs: %s)", appNextTag, err, f.dir)
		}
	}
}
