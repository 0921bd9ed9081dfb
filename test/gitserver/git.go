package gitserver

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// gitEnv returns a clean environment for git commands: the process
// environment without GIT_* variables, HOME, XDG_CONFIG_HOME and the SSH
// agent, plus settings that isolate git from the user's configuration.
func gitEnv(home string, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "GIT_"), k == "HOME", k == "XDG_CONFIG_HOME", k == "SSH_AUTH_SOCK":
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"HOME="+home,
		"XDG_CONFIG_HOME="+home,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_TERMINAL_PROMPT=0",
		"GIT_CONFIG_COUNT=1",
		"GIT_CONFIG_KEY_0=protocol.file.allow",
		"GIT_CONFIG_VALUE_0=always",
	)
	return append(env, extra...)
}

// runGit runs git in dir with an isolated environment and returns its
// trimmed stdout. On failure the error includes stdout and stderr.
func runGit(dir, home string, extraEnv []string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = gitEnv(home, extraEnv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %w\nstdout:\n%s\nstderr:\n%s",
			strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return strings.TrimSpace(stdout.String()), nil
}

// mustGit is runGit that fails the test on error.
func mustGit(t testing.TB, dir, home string, args ...string) string {
	t.Helper()
	out, err := runGit(dir, home, nil, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
