package git

import (
	"fmt"
	"io"

	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage"
)

// DefaultMaxFetchSize caps the bytes one fetch may bring when
// FetchOptions.MaxSize is 0: twice the artifact store's size cap, room for
// history the artifact does not hold.
const DefaultMaxFetchSize int64 = 1 << 30

// capStorer counts the packfile a fetch writes and fails the write past
// max bytes, whatever the transport (https, ssh, file).
type capStorer struct {
	storage.Storer
	pw  storer.PackfileWriter
	max int64
}

// withSizeCap wraps s so a fetch into it fails with ErrTooLarge past max
// bytes. A storer that cannot stream packfiles is returned as it is.
func withSizeCap(s storage.Storer, max int64) storage.Storer {
	pw, ok := s.(storer.PackfileWriter)
	if !ok {
		return s
	}
	return &capStorer{Storer: s, pw: pw, max: max}
}

// PackfileWriter implements storer.PackfileWriter.
func (c *capStorer) PackfileWriter() (io.WriteCloser, error) {
	w, err := c.pw.PackfileWriter()
	if err != nil {
		return nil, err
	}
	return &capWriter{WriteCloser: w, left: c.max, max: c.max}, nil
}

type capWriter struct {
	io.WriteCloser
	left, max int64
}

func (w *capWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > w.left {
		return 0, fmt.Errorf("%w: the server sent more than %d bytes", ErrTooLarge, w.max)
	}
	w.left -= int64(len(p))
	return w.WriteCloser.Write(p)
}
