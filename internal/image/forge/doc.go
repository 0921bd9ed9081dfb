// Package forge opens, updates and closes the pull requests of image
// updates on GitHub, GitLab and Gitea through their REST APIs: one open
// pull request per head branch and base branch, updated in place (its
// title and description) on later runs, closed when a run finds the base
// already holds the chosen images.
//
// It speaks only the few endpoints it needs (list open pull requests,
// create, edit, close) with the token auth each forge documents. It does
// not push branches (package gitwrite does) and keeps no state: the open
// pull request is found again on each call.
package forge
