package gitserve

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// env returns a clean environment for git commands: the process
// environment without GIT_* variables, HOME, XDG_CONFIG_HOME and the SSH
// agent, plus settings that isolate git from the user's configuration.
func env(home string, extra ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "GIT_"), k == "HOME", k == "XDG_CONFIG_HOME", k == "SSH_AUTH_SOCK":
			continue
		}
		out = append(out, kv)
	}
	out = append(out,
		"HOME="+home,
		"XDG_CONFIG_HOME="+home,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_TERMINAL_PROMPT=0",
		"GIT_CONFIG_COUNT=1",
		"GIT_CONFIG_KEY_0=protocol.file.allow",
		"GIT_CONFIG_VALUE_0=always",
	)
	return append(out, extra...)
}

// Git runs the git CLI with args in dir, with home as HOME and an
// environment isolated from the user's Git configuration plus extraEnv,
// and returns its trimmed stdout. On failure the error holds the command,
// its stdout and its stderr.
func Git(dir, home string, extraEnv []string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = env(home, extraEnv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %w\nstdout:\n%s\nstderr:\n%s",
			strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return strings.TrimSpace(stdout.String()), nil
}

// withHome runs fn with a fresh, empty HOME for git, removed afterwards.
func withHome(fn func(home string) error) error {
	home, err := os.MkdirTemp("", "flotilla-gitserve-home-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(home)
	return fn(home)
}
