package candle

import (
	"bytes"
	"net/url"
	"strconv"
)

// CSVHeader is the one header line a CSV body may start with.
const CSVHeader = "time,open,high,low,close,volume"

// The CSV reader splits lines with bytes.IndexByte and reads each line's
// six numbers in place. Fields are numbers only, so quoting is not needed
// and not accepted. Lines end in "\n" or "\r\n"; a UTF-8 byte order mark
// before the header is skipped; spaces and tabs around a field are ignored;
// blank lines may end the body but not interrupt the data.
func decodeCSV(b []byte, query url.Values, lim Limits) (Request, *FieldError) {
	var req Request
	query, fe := querySettings(query, &req)
	if fe != nil {
		return req, fe
	}
	params, fe := queryParams(query, lim)
	if fe != nil {
		return req, fe
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if len(b) == 0 {
		return req, &FieldError{Field: "csv", Index: -1, Reason: "empty body; want the header line " + CSVHeader + " then one candle a line"}
	}
	end := bytes.IndexByte(b, '\n')
	if end < 0 {
		end = len(b)
	}
	if header := trimCR(b[:end]); !headerOK(header) {
		return req, &FieldError{Field: "header", Index: -1, Line: 1, Reason: "must be " + CSVHeader + ", got " + quoteSnippet(header)}
	}
	i := end + 1
	hint := capHint(len(b)-min(i, len(b)), 48, lim)
	ts, cols := makeColumns(hint)
	lineNo := 1
	blank := 0 // first blank line seen, if any
	for i < len(b) {
		lineNo++
		end := bytes.IndexByte(b[i:], '\n')
		if end < 0 {
			end = len(b)
		} else {
			end += i
		}
		line := trimCR(b[i:end])
		i = end + 1
		if isBlank(line) {
			if blank == 0 {
				blank = lineNo
			}
			continue
		}
		n := len(ts)
		if blank != 0 {
			return req, &FieldError{Field: "csv", Index: -1, Line: blank, Reason: "blank line inside the data"}
		}
		if n >= lim.MaxCandles {
			return req, tooMany(lim)
		}
		var t int64
		var row [6]float64
		p := 0
		for k := range 6 {
			p = skipSpace(line, p)
			q := p
			var ne numErr
			if k == fT {
				t, p, ne = parseInt(line, p)
			} else {
				row[k], p, ne = parseFloat(line, p)
			}
			p = skipSpace(line, p)
			switch {
			case ne == numOK && k < 5 && p < len(line) && line[p] == ',':
				p++
				continue
			case ne == numOK && k == 5 && p == len(line):
				continue
			}
			// Something is wrong: too few or too many fields, or a bad cell.
			if nf := bytes.Count(line, []byte{','}) + 1; nf != 6 {
				return req, &FieldError{Field: "csv", Index: n, Line: lineNo,
					Reason: "has " + strconv.Itoa(nf) + " fields, want 6 (" + CSVHeader + ")"}
			}
			cell := line[q:]
			if c := bytes.IndexByte(cell, ','); c >= 0 {
				cell = cell[:c]
			}
			cell = bytes.TrimRight(cell, " \t")
			reason := ne.reason()
			if ne == numOK || ne == numNotNumber || ne == numSyntax {
				reason = "not a number: " + quoteSnippet(cell)
				if k == fT {
					reason = "not an integer: " + quoteSnippet(cell)
				}
			}
			return req, &FieldError{Field: fieldAt(false, k, n), Index: n, Line: lineNo, Reason: reason}
		}
		ts = append(ts, t)
		for k := range cols {
			cols[k] = append(cols[k], row[k+1])
		}
	}
	if len(ts) == 0 {
		return req, &FieldError{Field: "candles", Index: -1, Reason: "at least 1 candle is required; the CSV has only its header"}
	}
	s := &req.Candles
	s.Time, s.Open, s.High, s.Low, s.Close, s.Volume = ts, cols[0], cols[1], cols[2], cols[3], cols[4]
	if fe := validate(s, false, 2); fe != nil {
		return Request{}, fe
	}
	req.Params = params
	return req, nil
}

func headerOK(line []byte) bool {
	for k := range 6 {
		p := bytes.IndexByte(line, ',')
		field := line
		if p >= 0 {
			field = line[:p]
			line = line[p+1:]
		} else {
			line = nil
		}
		name := colNames[k]
		if string(bytes.Trim(field, " \t")) != name || (k < 5) != (p >= 0) {
			return false
		}
	}
	return true
}

func trimCR(line []byte) []byte {
	if n := len(line); n > 0 && line[n-1] == '\r' {
		return line[:n-1]
	}
	return line
}

func isBlank(line []byte) bool {
	return skipSpace(line, 0) == len(line)
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	return i
}
