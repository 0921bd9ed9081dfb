// Package git fetches one revision of a Git repository with go-git: it
// resolves a reference (commit, semver range, tag or branch, in that order of
// precedence), fetches shallowly and incrementally into a per-repository cache,
// and hands back the commit to store. It speaks https (basic auth, bearer
// token, private CA), ssh (key and known_hosts, host key always checked) and
// file://. It does not store artifacts (see package artifact) and never runs
// the git binary.
package git
