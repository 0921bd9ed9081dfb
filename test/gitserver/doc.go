// Package gitserver is test infrastructure that runs REAL Git servers on
// loopback for integration tests of the GitOps agent.
//
// Nothing here is a mock: it wraps internal/gitserve, whose functions
// return errors, for tests: each helper takes a testing.TB, fails the test
// on error, puts its directories in t.TempDir() and stops its servers with
// t.Cleanup. Repositories are bare repositories created with the git CLI
// ([Root]), commits are made and pushed with the git CLI ([Workdir]), the
// smart HTTP(S) server ([HTTPServer]) runs the real `git http-backend`, and
// the SSH server ([SSHServer]) runs the real `git upload-pack` /
// `git receive-pack`. Clients therefore talk to Git exactly as they would
// in production, including authentication, TLS and pushes.
//
// Programs (the demo, the benchmarks) use internal/gitserve directly. The
// package is meant to be imported only from tests.
package gitserver
