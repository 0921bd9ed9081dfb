// Package backoff retries an operation that lost a race it may win next
// time (a Git push another writer beat) with exponential backoff and
// jitter, honouring the context while it waits.
//
// The image update writer (internal/image/gitwrite) and the canary ledger
// (internal/canary/ledger) use it for their push retries. It is not for
// requests to the Kubernetes API server (client-go's retry handles
// conflicts there) and knows nothing about what it retries: the caller
// says which errors are worth another attempt.
package backoff
