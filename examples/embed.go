// Package examples carries the example repositories inside the binary, so
// `flotilla demo` can serve the example fleet from any directory.
package examples

import "embed"

// Fleet is examples/fleet: three clusters, shared infrastructure and an app.
//
//go:embed all:fleet
var Fleet embed.FS
