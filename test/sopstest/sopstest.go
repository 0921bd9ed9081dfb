// Package sopstest encrypts test fixtures with the real sops command and
// real keys, as a Flotilla user does: age identities made with filippo.io/age,
// a PGP key made with GnuPG, and the sops binary that hack/testenv.sh builds
// from its Go module (test/sops) into the test ground cache. Keys are made
// per test and live in the test's temporary directory only.
package sopstest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/flotilla-io/flotilla/internal/testground"
)

// Binary returns the path of the sops command built by hack/testenv.sh,
// failing the test with what to run when it is missing.
func Binary(t testing.TB) string {
	t.Helper()
	dir, err := testground.AssetsDir()
	if err != nil {
		t.Fatalf("the test ground is not prepared: %v", err)
	}
	p := filepath.Join(dir, "sops")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("sops not found in %s: run `make testenv`", dir)
	}
	return p
}

// AgeKey is an age key pair.
type AgeKey struct {
	// Identity is the private key, AGE-SECRET-KEY-1...
	Identity string
	// Recipient is the public key, age1...
	Recipient string
}

// NewAgeKey makes a fresh age key pair.
func NewAgeKey(t testing.TB) AgeKey {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return AgeKey{Identity: id.String(), Recipient: id.Recipient().String()}
}

// PGPKey is a PGP key pair made by GnuPG, without a passphrase.
type PGPKey struct {
	// Fingerprint of the primary key.
	Fingerprint string
	// Armored is the armored private key, as gpg --export-secret-keys --armor gives it.
	Armored []byte
	// Home is the GNUPGHOME holding the key, for sops to encrypt with.
	Home string
}

// NewPGPKey makes a fresh PGP key with GnuPG in a temporary GNUPGHOME.
func NewPGPKey(t testing.TB) PGPKey {
	t.Helper()
	if _, err := exec.LookPath("gpg"); err != nil {
		t.Fatal("gpg not found: run `make testenv`, which installs Debian's gnupg")
	}
	home, err := os.MkdirTemp("", "gpg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = exec.Command("gpgconf", "--homedir", home, "--kill", "all").Run()
		_ = os.RemoveAll(home)
	})
	gpg(t, home, nil, "--passphrase", "", "--quick-generate-key", "Flotilla test <test@flotilla.invalid>", "default", "default", "never")
	var fpr string
	for _, line := range strings.Split(string(gpg(t, home, nil, "--with-colons", "--list-secret-keys")), "\n") {
		if f := strings.Split(line, ":"); f[0] == "fpr" && fpr == "" {
			fpr = f[9]
		}
	}
	if fpr == "" {
		t.Fatal("gpg made no key")
	}
	return PGPKey{Fingerprint: fpr, Armored: gpg(t, home, nil, "--armor", "--export-secret-keys", fpr), Home: home}
}

func gpg(t testing.TB, home string, stdin []byte, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("gpg", append([]string{"--homedir", home, "--batch", "--pinentry-mode", "loopback"}, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("gpg %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// Recipients say who a file is encrypted for.
type Recipients struct {
	// Age recipients (public keys).
	Age []string
	// PGP fingerprints; PGPHome is the GNUPGHOME that holds them.
	PGP     []string
	PGPHome string
	// EncryptedRegex limits encryption to matching keys (sops --encrypted-regex).
	EncryptedRegex string
}

// Encrypt encrypts plaintext with the real sops command. name is the file
// name, whose extension gives the format (.yaml, .json, .env, .ini, other =
// binary), as for sops itself.
func Encrypt(t testing.TB, name string, plaintext []byte, to Recipients) []byte {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, plaintext, 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--encrypt"}
	if len(to.Age) > 0 {
		args = append(args, "--age", strings.Join(to.Age, ","))
	}
	if len(to.PGP) > 0 {
		args = append(args, "--pgp", strings.Join(to.PGP, ","))
	}
	if to.EncryptedRegex != "" {
		args = append(args, "--encrypted-regex", to.EncryptedRegex)
	}
	cmd := exec.Command(Binary(t), append(args, p)...)
	cmd.Dir = dir
	cmd.Env = []string{"HOME=" + dir, "PATH=" + os.Getenv("PATH")}
	if to.PGPHome != "" {
		cmd.Env = append(cmd.Env, "GNUPGHOME="+to.PGPHome)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sops %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// ToAge is Recipients for age keys.
func ToAge(keys ...AgeKey) Recipients {
	var r Recipients
	for _, k := range keys {
		r.Age = append(r.Age, k.Recipient)
	}
	return r
}

// ToPGP is Recipients for a PGP key.
func ToPGP(k PGPKey) Recipients {
	return Recipients{PGP: []string{k.Fingerprint}, PGPHome: k.Home}
}

// Require skips a test under -short, which runs unit tests only: the test
// encrypts fixtures with the real sops command of the test ground.
func Require(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("skipped under -short, which runs unit tests only: encrypts fixtures with the real sops command of the test ground")
	}
}
