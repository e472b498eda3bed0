package der

import "time"

// Time returns the value of a UTCTime or GeneralizedTime element in UTC.
//
// Strict mode accepts only the forms RFC 5280 §4.1.2.5 prescribes:
// YYMMDDHHMMSSZ and YYYYMMDDHHMMSSZ. Relaxed mode also takes the other
// forms X.680 allows: seconds left out, fractional seconds
// (GeneralizedTime) and a ±hhmm offset instead of Z. Two-digit years
// follow RFC 5280: 50 to 99 mean 19xx, 00 to 49 mean 20xx.
func (e Element) Time() (time.Time, error) {
	return e.time(true)
}

func (e Element) time(compute bool) (time.Time, error) {
	if err := e.primitive("time"); err != nil {
		return time.Time{}, err
	}
	var generalized bool
	switch e.Tag() {
	case TagUTCTime:
	case TagGeneralizedTime:
		generalized = true
	default:
		return time.Time{}, e.errorf(ErrUnexpectedTag, "expected UTCTime or GeneralizedTime, found %s", e.Tag())
	}
	t, ok := parseTime(e.Content(), generalized, e.Mode(), compute)
	if !ok {
		kind := "UTCTime"
		if generalized {
			kind = "GeneralizedTime"
		}
		return time.Time{}, e.errorf(ErrMalformed, "bad %s %q", kind, e.Content())
	}
	return t, nil
}

// CheckTime validates a UTCTime or GeneralizedTime like Time does but
// skips computing the instant, for times that are only checked (a CRL
// holds one per revoked certificate).
func (e Element) CheckTime() error {
	_, err := e.time(false)
	return err
}

// GeneralizedTime is Time restricted to GeneralizedTime, the only type
// some fields allow (a manifest's thisUpdate and nextUpdate).
func (e Element) GeneralizedTime() (time.Time, error) {
	if e.Tag() != TagGeneralizedTime {
		return time.Time{}, e.errorf(ErrUnexpectedTag, "expected GeneralizedTime, found %s", e.Tag())
	}
	return e.Time()
}

func parseTime(c []byte, generalized bool, mode Mode, compute bool) (time.Time, bool) {
	var year int
	if generalized {
		y, ok := digits(c, 4)
		if !ok {
			return time.Time{}, false
		}
		year, c = y, c[4:]
	} else {
		y, ok := digits(c, 2)
		if !ok {
			return time.Time{}, false
		}
		year, c = 1900+y, c[2:]
		if year < 1950 {
			year += 100
		}
	}
	// Month, day, hour and minute are always there.
	var f [4]int
	for i := range f {
		v, ok := digits(c, 2)
		if !ok {
			return time.Time{}, false
		}
		f[i], c = v, c[2:]
	}
	month, day, hour, minute := f[0], f[1], f[2], f[3]
	sec, nsec := 0, 0
	if s, ok := digits(c, 2); ok {
		sec, c = s, c[2:]
	} else if mode == Strict {
		return time.Time{}, false
	}
	if generalized && len(c) > 1 && (c[0] == '.' || c[0] == ',') {
		if mode == Strict {
			return time.Time{}, false
		}
		c = c[1:]
		n, scale := 0, 0
		for n < len(c) && c[n] >= '0' && c[n] <= '9' {
			if scale < 9 {
				nsec = nsec*10 + int(c[n]-'0')
				scale++
			}
			n++
		}
		if n == 0 {
			return time.Time{}, false
		}
		for ; scale < 9; scale++ {
			nsec *= 10
		}
		c = c[n:]
	}
	offset := 0
	switch {
	case len(c) == 1 && c[0] == 'Z':
	case mode == Relaxed && len(c) == 5 && (c[0] == '+' || c[0] == '-'):
		h, ok1 := digits(c[1:], 2)
		m, ok2 := digits(c[3:], 2)
		if !ok1 || !ok2 || h > 23 || m > 59 {
			return time.Time{}, false
		}
		offset = (h*60 + m) * 60
		if c[0] == '-' {
			offset = -offset
		}
	default:
		return time.Time{}, false
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	if !compute {
		return time.Time{}, true
	}
	secs := daysFromCivil(year, month, day)*86400 + int64(hour*3600+minute*60+sec-offset)
	return time.Unix(secs, int64(nsec)).UTC(), true
}

// daysFromCivil returns the days from 1970-01-01 to the given date of the
// proleptic Gregorian calendar. It is the well-known era-based formula
// (400-year eras, March-based years); time.Date does the same work with
// normalisation RPKI times never need, at several times the cost, and
// CRLs hold a time per revoked certificate.
func daysFromCivil(year, month, day int) int64 {
	y := int64(year)
	if month <= 2 {
		y--
	}
	era := y / 400 // years here are positive (1950-9999)
	yoe := y - era*400
	m := int64(month)
	mp := (m + 9) % 12 // March is 0
	doy := (153*mp+2)/5 + int64(day) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func digits(c []byte, n int) (int, bool) {
	if len(c) < n {
		return 0, false
	}
	v := 0
	for _, b := range c[:n] {
		if b < '0' || b > '9' {
			return 0, false
		}
		v = v*10 + int(b-'0')
	}
	return v, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
