package demo

import (
	"bytes"
	"context"
	_ "embed" // the demo-only age key
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// demoAgeKey is the demo-only age identity that examples/fleet/apps/secrets
// is encrypted for. It is public and protects nothing.
//
//go:embed demo-only.agekey
var demoAgeKey []byte

// The SOPS step of the demo: the Stack "secrets" of examples/fleet
// (clusters/staging/secrets.yaml, unlisted in Git) applies a Secret kept
// encrypted in Git; the demo lists it and gives the agent the key.
const (
	secretsCluster   = "staging"
	secretsStackFile = "secrets.yaml"
	secretsKeySecret = "sops-age"
	secretsFile      = "apps/secrets/db-credentials.yaml"
	secretsRotated   = "apps/secrets/db-credentials.yaml.rotated"
	secretsName      = "db-credentials"
	secretsPlaintext = "demo-password-v1"
)

// withSecretsStack lists the Stack "secrets" in staging's directory of the
// demo's copy of the fleet, after customize.
func withSecretsStack(clusters []string, customize func(string) error) func(string) error {
	return func(work string) error {
		if err := customize(work); err != nil || !slices.Contains(clusters, secretsCluster) {
			return err
		}
		p := filepath.Join(work, "clusters", secretsCluster, "kustomization.yaml")
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		const apps = "  - apps.yaml\n"
		if !bytes.Contains(b, []byte(apps)) {
			return fmt.Errorf("%s does not list apps.yaml", p)
		}
		return os.WriteFile(p, bytes.Replace(b, []byte(apps), []byte(apps+"  - "+secretsStackFile+"\n"), 1), 0o644)
	}
}

// giveDecryptionKey creates the Secret with the demo's age key that the
// Stack "secrets" decrypts with, on the cluster that runs it.
func (f *fleet) giveDecryptionKey(ctx context.Context) error {
	for _, c := range f.clusters {
		if c.name != secretsCluster {
			continue
		}
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: Namespace, Name: secretsKeySecret},
			Data: map[string][]byte{"demo.agekey": demoAgeKey}}
		if err := c.client.Create(ctx, s); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating the decryption key Secret on %s: %w", c.name, err)
		}
		f.o.Report.Step("✔ gave %s's agent the demo's age key: Secret %s/%s (entry demo.agekey, as Flux names it)", c.name, Namespace, secretsKeySecret)
	}
	return nil
}

// showSecrets shows the Secret kept encrypted in Git applied decrypted,
// and `flotilla diff` masking a change to it. The decrypted value is
// compared, never printed.
func (f *fleet) showSecrets(ctx context.Context) error {
	c := f.clusterNamed(secretsCluster)
	if c == nil {
		return nil
	}
	fmt.Fprintf(f.o.Out, "\nA Secret kept SOPS-encrypted in Git (%s), decrypted by the agent:\n", secretsFile)
	var s corev1.Secret
	key := client.ObjectKey{Namespace: helloNS, Name: secretsName}
	if err := c.client.Get(ctx, key, &s); err != nil {
		return fmt.Errorf("reading Secret %s on %s: %w", key, c.name, err)
	}
	if string(s.Data["password"]) != secretsPlaintext {
		return fmt.Errorf("checking Secret %s on %s: it does not hold the decrypted password", key, c.name)
	}
	f.o.Report.Step("  ✔ %-14s Secret %s: password decrypted (%d bytes; Git holds only ciphertext)", c.name, key, len(s.Data["password"]))
	if f.o.ShowDiff == nil {
		return nil
	}
	return f.showMaskedDiff(ctx, c)
}

// showMaskedDiff puts the rotated file in place in the work tree, runs
// `flotilla diff stack secrets` on it, and puts the file back.
func (f *fleet) showMaskedDiff(ctx context.Context, c *cluster) error {
	file := filepath.Join(f.repo.work, filepath.FromSlash(secretsFile))
	before, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	rotated, err := os.ReadFile(filepath.Join(f.repo.work, filepath.FromSlash(secretsRotated)))
	if err != nil {
		return err
	}
	if err := os.WriteFile(file, rotated, 0o644); err != nil {
		return err
	}
	defer os.WriteFile(file, before, 0o644) //nolint:errcheck // best effort: the demo ends here
	fmt.Fprintf(f.o.Out, "\nRotating its password in a checkout; the diff says it changed, never to what:\n$ flotilla diff stack secrets --context %s --path <checkout>\n", c.name)
	return f.o.ShowDiff(ctx, f.kubeconfig, c.name, "secrets", f.repo.work, f.o.Out)
}

// clusterNamed returns the cluster of that name, or nil.
func (f *fleet) clusterNamed(name string) *cluster {
	for _, c := range f.clusters {
		if c.name == name {
			return c
		}
	}
	return nil
}

// diffFunc runs `flotilla diff stack` for the demo: kubeconfig and
// context, the Stack, the checkout; it prints to w.
type diffFunc func(ctx context.Context, kubeconfig, context, stack, checkout string, w io.Writer) error
