// Package ext holds the two extension points of Traefik's dynamic HTTP
// configuration. Both are empty: the open source build of Traefik adds no
// fields there.
package ext

// HTTP is embedded in Traefik's dynamic.HTTPConfiguration.
type HTTP struct{}

// Router is embedded in Traefik's dynamic.Router.
type Router struct{}
