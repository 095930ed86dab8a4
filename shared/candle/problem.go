package candle

import (
	"errors"

	"github.com/waickoff/waickoff/shared/problem"
)

// Problem maps an error of Decode to the problem the client reads: 415
// unsupported_media_type for a media type, 400 invalid_request naming the
// field (with the candle's index and the CSV line, when known) for
// anything else.
func Problem(err error) error {
	if errors.Is(err, ErrUnsupportedMediaType) {
		return problem.New(problem.UnsupportedMediaType, "send application/json or text/csv")
	}
	var fe *FieldError
	if errors.As(err, &fe) {
		pe := problem.Invalid(fe.Field, "%s", fe.Error())
		if fe.Index >= 0 {
			pe.Extra = map[string]any{"index": fe.Index}
		}
		if fe.Line > 0 {
			if pe.Extra == nil {
				pe.Extra = map[string]any{}
			}
			pe.Extra["line"] = fe.Line
		}
		return pe
	}
	return problem.Invalid("body", "the request body could not be read")
}
