// Package dashboard serves the fleet's web page: every cluster of a
// kubeconfig, every Stack, drift, canaries and image updates, live.
//
// A Server keeps one watch per cluster and kind (Stacks, GitRepositories,
// Canaries, ImagePolicies, ImageUpdates) with the user's own credentials,
// however many browsers are open, and pushes each change to the page as a
// server-sent event. The page (web/) is plain HTML, CSS and JavaScript
// embedded in the binary: no Node build step.
//
// It is not a controller: it never writes, except the reconcile, suspend and
// resume a user confirms on a server started with actions allowed.
package dashboard
