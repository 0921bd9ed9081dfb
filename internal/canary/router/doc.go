// Package router holds the routers of progressive delivery: what makes the
// Services of a Canary (<name>, <name>-primary, <name>-canary, for every
// router) and moves traffic between the primary and the canary. New picks
// a router by the Canary's spec.provider: kubernetes (blue/green with
// Service selectors, here) or a router another file registers (gatewayapi,
// HTTPRoute weights).
//
// It is not the state machine (package canary decides when traffic moves)
// and it does not touch the Deployments.
package router
