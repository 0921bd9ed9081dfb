// Package gitserver is test infrastructure that runs REAL Git servers on
// loopback for integration tests of the GitOps agent.
//
// Nothing here is a mock: repositories are bare repositories created with the
// git CLI ([Root]), commits are made and pushed with the git CLI ([Workdir]),
// the smart HTTP(S) server ([HTTPServer]) runs the real `git http-backend`
// behind net/http/cgi, and the SSH server ([SSHServer]) runs the real
// `git upload-pack` / `git receive-pack` for exec requests accepted by
// golang.org/x/crypto/ssh. Clients therefore talk to Git exactly as they
// would in production, including authentication, TLS and pushes.
//
// All servers listen on 127.0.0.1 only and are stopped by t.Cleanup. Git
// commands run with GIT_CONFIG_NOSYSTEM=1 and a temporary HOME so the
// developer's Git configuration does not leak into tests. The package is
// meant to be imported only from tests.
package gitserver
