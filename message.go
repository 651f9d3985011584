package eda

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/edakit/eda/internal/jsontext"
	"github.com/edakit/eda/internal/pattern"
)

// Message is one message published to a Topic, with Amazon SNS's Publish
// parameters.
type Message struct {
	// Body is the message (SNS's Message parameter): any bytes, not
	// necessarily JSON, and not empty.
	Body []byte
	// Subject is the optional subject (SNS's Subject): at most 100
	// characters of UTF-8 text without line breaks or control characters.
	Subject string
	// Attributes are the message attributes (SNS's MessageAttributes), by
	// name.
	Attributes map[string]Attribute
	// GroupID is the message group of a FIFO topic (SNS's MessageGroupId):
	// required there, refused by a standard topic. At most 128 characters,
	// letters, digits and ASCII punctuation.
	GroupID string
	// DeduplicationID is the de-duplication token of a FIFO topic (SNS's
	// MessageDeduplicationId), with the same characters as GroupID;
	// refused by a standard topic.
	DeduplicationID string
}

// ErrInvalidMessage is wrapped by every *MessageError: test with errors.Is.
var ErrInvalidMessage = errors.New("eda: invalid message")

// MessageError reports a message that SNS would refuse: which field, and why.
type MessageError struct {
	// Field names the offending part: "Body", "Subject", "GroupID",
	// "DeduplicationID", "Attributes" (the set as a whole) or
	// "Attributes[name]" (one attribute).
	Field string
	// Reason says what is wrong.
	Reason string
}

// Error returns "eda: invalid message: " followed by the field and the reason.
func (e *MessageError) Error() string { return "eda: invalid message: " + e.Field + ": " + e.Reason }

// Unwrap returns ErrInvalidMessage.
func (e *MessageError) Unwrap() error { return ErrInvalidMessage }

// SNS's message limits (Publish API reference; "Amazon SNS message
// attributes").
const (
	// DefaultMaxMessageSize is SNS's largest message: 256 KiB, counting the
	// body and every attribute's name, data type and value.
	DefaultMaxMessageSize = 256 * 1024
	// RawDeliveryMaxAttributes is the most attributes SNS delivers to an
	// SQS subscription with raw message delivery. Publish itself sets no
	// count limit (the size limit bounds them).
	RawDeliveryMaxAttributes = 10

	maxAttributeNameLen = 256 // SNS: attribute names up to 256 characters
	maxDataTypeLen      = 256 // SNS: data types up to 256 bytes
	maxSubjectLen       = 100 // Publish: Subject "less than 100 characters long"; read as at most 100
	maxFIFOIDLen        = 128 // Publish: MessageGroupId, MessageDeduplicationId
	// Number attributes: SQS's bounds (38 significant digits, magnitude
	// 10^-128 to 10^126), which SNS forwards attributes to. SNS's own page
	// gives -10^9 to 10^9 with 5 decimals as the range it handles (the
	// filter-policy limit), but publishers send larger numbers (epoch
	// milliseconds); they are accepted and compared as float64.
	maxNumberDigits = 38
	maxNumberExp    = 126
	minNumberExp    = -128
)

// messageLimits bound validateMessage. A zero field takes its default.
type messageLimits struct {
	// MaxSize bounds body + attribute names, types and values in bytes
	// (0: DefaultMaxMessageSize; negative: no limit).
	MaxSize int
	// MaxAttributes bounds the number of attributes (0 or negative: no
	// limit, as SNS's Publish; RawDeliveryMaxAttributes for raw SQS
	// delivery).
	MaxAttributes int
}

// validateMessage checks m as SNS's Publish does, for a FIFO topic or a
// standard one, and returns its size as SNS counts it against the limit
// (body, attribute names, data types and values). The error is a
// *MessageError.
func validateMessage(m *Message, lim messageLimits, fifo bool) (size int, err error) {
	size, _, err = validateMessageAttrs(m, lim, fifo, nil)
	return size, err
}

// validateMessageAttrs is validateMessage that also appends m's attributes,
// converted for the pattern engine as messageAttrs does, to attrs (nil:
// none are converted), in the same pass over them, and returns it.
func validateMessageAttrs(m *Message, lim messageLimits, fifo bool, attrs []pattern.Attr) (size int, _ []pattern.Attr, err error) {
	if m == nil {
		return 0, attrs, &MessageError{Field: "Body", Reason: "nil message"}
	}
	size, err = validateMessageFields(m, lim, fifo)
	if err != nil {
		return 0, attrs, err
	}
	convert := attrs != nil
	for name, a := range m.Attributes {
		kind, err := checkAttribute(name, a)
		if err != nil {
			return 0, attrs, err
		}
		size += len(name) + len(a.DataType) + len(a.StringValue) + len(a.BinaryValue)
		if convert {
			attrs = append(attrs, patternAttr(name, kind, a))
		}
	}
	maxSize := lim.MaxSize
	if maxSize == 0 {
		maxSize = DefaultMaxMessageSize
	}
	if maxSize > 0 && size > maxSize {
		return 0, attrs, &MessageError{Field: "Body", Reason: "the message is " + strconv.Itoa(size) +
			" bytes (body and attribute names, types and values), more than the limit of " + strconv.Itoa(maxSize)}
	}
	return size, attrs, nil
}

// validateMessageFields checks everything of m but its attributes'
// names, types and values, and returns the size of its body.
func validateMessageFields(m *Message, lim messageLimits, fifo bool) (size int, err error) {
	if len(m.Body) == 0 {
		return 0, &MessageError{Field: "Body", Reason: "must not be empty"}
	}
	if err := validateSubject(m.Subject); err != nil {
		return 0, err
	}
	if fifo {
		if m.GroupID == "" {
			return 0, &MessageError{Field: "GroupID", Reason: "a FIFO topic requires a message group ID"}
		}
		if reason := fifoIDProblem(m.GroupID); reason != "" {
			return 0, &MessageError{Field: "GroupID", Reason: reason}
		}
		if m.DeduplicationID != "" {
			if reason := fifoIDProblem(m.DeduplicationID); reason != "" {
				return 0, &MessageError{Field: "DeduplicationID", Reason: reason}
			}
		}
	} else {
		if m.GroupID != "" {
			return 0, &MessageError{Field: "GroupID", Reason: "only FIFO topics take a message group ID"}
		}
		if m.DeduplicationID != "" {
			return 0, &MessageError{Field: "DeduplicationID", Reason: "only FIFO topics take a de-duplication ID"}
		}
	}
	if lim.MaxAttributes > 0 && len(m.Attributes) > lim.MaxAttributes {
		return 0, &MessageError{Field: "Attributes", Reason: strconv.Itoa(len(m.Attributes)) + " attributes, more than the limit of " + strconv.Itoa(lim.MaxAttributes)}
	}
	return len(m.Body), nil
}

// validateSubject checks a Subject: at most 100 characters of UTF-8 text,
// no line breaks or other control characters.
func validateSubject(s string) error {
	if s == "" {
		return nil
	}
	if !utf8.ValidString(s) {
		return &MessageError{Field: "Subject", Reason: "must be valid UTF-8"}
	}
	n := 0
	for _, r := range s {
		if r < 0x20 || (r >= 0x7f && r < 0xa0) || r == '\u2028' || r == '\u2029' {
			return &MessageError{Field: "Subject", Reason: "must not contain line breaks or control characters, found " + strconv.QuoteRune(r)}
		}
		n++
	}
	if n > maxSubjectLen {
		return &MessageError{Field: "Subject", Reason: strconv.Itoa(n) + " characters, more than " + strconv.Itoa(maxSubjectLen)}
	}
	return nil
}

// fifoIDProblem checks a MessageGroupId or MessageDeduplicationId: 1 to 128
// letters, digits and ASCII punctuation.
func fifoIDProblem(id string) string {
	if len(id) > maxFIFOIDLen {
		return strconv.Itoa(len(id)) + " characters, more than " + strconv.Itoa(maxFIFOIDLen)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c >= 0x7f {
			return "character " + strconv.Quote(id[i:i+1]) + " at " + strconv.Itoa(i) + " is not a letter, digit or punctuation mark"
		}
	}
	return ""
}

// attrField names an attribute in a MessageError.
func attrField(name string) string { return "Attributes[" + name + "]" }

// validateAttribute checks one message attribute as SNS does.
func validateAttribute(name string, a Attribute) error {
	_, err := checkAttribute(name, a)
	return err
}

// checkAttribute is validateAttribute that also returns the attribute's
// type.
func checkAttribute(name string, a Attribute) (pattern.AttrType, error) {
	if reason := attributeNameProblem(name); reason != "" {
		return 0, &MessageError{Field: attrField(name), Reason: reason}
	}
	bad := func(reason string) (pattern.AttrType, error) {
		return 0, &MessageError{Field: attrField(name), Reason: reason}
	}
	kind, reason := attributeKind(a.DataType)
	if reason != "" {
		return bad(reason)
	}
	if isNumberArray(a) {
		if reason := numberArrayProblem(a.StringValue); reason != "" {
			return bad(reason)
		}
		return pattern.AttrStringArray, nil
	}
	if kind == pattern.AttrBinary {
		if len(a.BinaryValue) == 0 {
			return bad("a Binary attribute needs a non-empty BinaryValue")
		}
		if a.StringValue != "" {
			return bad("a Binary attribute takes BinaryValue, not StringValue")
		}
		return kind, nil
	}
	if len(a.BinaryValue) != 0 {
		return bad("a " + a.DataType + " attribute takes StringValue, not BinaryValue")
	}
	if a.StringValue == "" {
		return bad("the value must not be empty")
	}
	switch kind {
	case pattern.AttrNumber:
		if reason := numberAttributeProblem(a.StringValue); reason != "" {
			return bad(reason)
		}
	case pattern.AttrStringArray:
		if reason := stringArrayProblem(a.StringValue); reason != "" {
			return bad(reason)
		}
	}
	return kind, nil
}

// attributeNameProblem checks an attribute name: 1 to 256 characters of
// A-Z, a-z, 0-9, '_', '-' and '.', not starting or ending with '.', no
// "..", and not starting with "AWS." or "Amazon." in any case.
func attributeNameProblem(name string) string {
	switch {
	case name == "":
		return "the name must not be empty"
	case len(name) > maxAttributeNameLen:
		return "the name has " + strconv.Itoa(len(name)) + " characters, more than " + strconv.Itoa(maxAttributeNameLen)
	case name[0] == '.' || name[len(name)-1] == '.':
		return "the name must not start or end with a period"
	case strings.Contains(name, ".."):
		return "the name must not contain two periods in a row"
	case hasPrefixFold(name, "aws.") || hasPrefixFold(name, "amazon."):
		return `the prefixes "AWS." and "Amazon." (in any case) are reserved`
	}
	for i := 0; i < len(name); i++ {
		if !isNameByte(name[i]) {
			return "the name may hold only letters, digits, '_', '-' and '.', found " + strconv.Quote(name[i:i+1])
		}
	}
	return ""
}

// isNameByte reports whether c may stand in an attribute name or a custom
// type label: A-Z, a-z, 0-9, '_', '-' and '.'.
func isNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.'
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// attributeKind returns the type of a DataType: "String", "Number",
// "Binary" or "String.Array", optionally followed by "." and a custom label
// of letters, digits, '_', '-' and '.' ("Number.float").
func attributeKind(dataType string) (pattern.AttrType, string) {
	if len(dataType) > maxDataTypeLen {
		return 0, "the data type has " + strconv.Itoa(len(dataType)) + " bytes, more than " + strconv.Itoa(maxDataTypeLen)
	}
	for _, t := range [...]struct {
		name string
		kind pattern.AttrType
	}{{"String.Array", pattern.AttrStringArray}, {"String", pattern.AttrString}, {"Number", pattern.AttrNumber}, {"Binary", pattern.AttrBinary}} {
		rest, ok := strings.CutPrefix(dataType, t.name)
		if !ok {
			continue
		}
		if rest == "" {
			return t.kind, ""
		}
		if rest[0] != '.' || len(rest) == 1 {
			continue
		}
		for i := 1; i < len(rest); i++ {
			if !isNameByte(rest[i]) {
				return 0, "the custom type label may hold only letters, digits, '_', '-' and '.', found " + strconv.Quote(rest[i:i+1])
			}
		}
		return t.kind, ""
	}
	if dataType == "" {
		return 0, "the data type must not be empty"
	}
	return 0, "unknown data type " + strconv.Quote(dataType) + ` (String, Number, Binary or String.Array, optionally with a custom label such as "Number.float")`
}

// numberAttributeProblem checks a Number value: a decimal number (JSON's
// grammar) of at most 38 significant digits, zero or of magnitude between
// 10^-128 and 10^126 (see maxNumberDigits).
func numberAttributeProblem(s string) string {
	if !isJSONNumber(s) {
		return strconv.Quote(s) + " is not a number"
	}
	// digits·10^x without leading or trailing zeros.
	digits, x := 0, 0
	lead := true
	frac := false
	trailing := 0
	i := 0
	if s[0] == '-' {
		i++
	}
	for ; i < len(s) && s[i] != 'e' && s[i] != 'E'; i++ {
		c := s[i]
		if c == '.' {
			frac = true
			continue
		}
		if frac {
			x--
		}
		if c == '0' {
			if !lead {
				trailing++
			}
			continue
		}
		lead = false
		digits += trailing + 1
		trailing = 0
	}
	x += trailing
	if i < len(s) {
		e, err := strconv.Atoi(s[i+1:])
		if err != nil {
			e = 1 << 20 // an exponent beyond int: out of range either way
			if s[i+1] == '-' {
				e = -e
			}
		}
		x += e
	}
	if digits == 0 {
		return "" // zero
	}
	if digits > maxNumberDigits {
		return strconv.Quote(s) + " has more than " + strconv.Itoa(maxNumberDigits) + " significant digits"
	}
	// The magnitude lies in [10^(x+digits-1), 10^(x+digits)).
	if top := x + digits - 1; top > maxNumberExp || top < minNumberExp {
		return strconv.Quote(s) + " is outside SNS's range (10^-128 to 10^126)"
	}
	return ""
}

// isJSONNumber reports whether s is a number in JSON's grammar.
func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// isNumberArray reports whether a is a "Number.Array" attribute holding a
// JSON array, as SNS's guide writes one ({"Type": "Number.Array", "Value":
// "[100, 50]"}, "Attribute numeric value matching"): its elements are
// matched one by one, as a String.Array's are. A "Number.Array" whose value
// is a single number is a Number with the custom label "Array".
func isNumberArray(a Attribute) bool {
	rest, ok := strings.CutPrefix(a.DataType, "Number.Array")
	return ok && (rest == "" || rest[0] == '.') && strings.HasPrefix(strings.TrimLeft(a.StringValue, " \t\n\r"), "[")
}

// attributeType is attributeKind for a validated attribute, with a
// Number.Array holding an array as an array (isNumberArray).
func attributeType(a Attribute) pattern.AttrType {
	if isNumberArray(a) {
		return pattern.AttrStringArray
	}
	kind, _ := attributeKind(a.DataType)
	return kind
}

// numberArrayProblem checks a Number.Array value holding an array: a JSON
// array of numbers, each a valid Number value.
func numberArrayProblem(s string) string {
	return arrayProblem(s, "Number.Array", func(e json.RawMessage) string {
		if reason := numberAttributeProblem(string(e)); reason != "" {
			return ": " + reason
		}
		return ""
	})
}

// stringArrayProblem checks a String.Array value: a JSON array whose
// elements are strings, numbers, true, false or null.
func stringArrayProblem(s string) string {
	return arrayProblem(s, "String.Array", func(e json.RawMessage) string {
		if e[0] == '[' || e[0] == '{' {
			return " is an array or object; only strings, numbers, true, false and null are allowed"
		}
		return ""
	})
}

// arrayProblem checks s, the value of an attribute of array type what: a
// JSON array, each element of which elem accepts (elem returns what is
// wrong with one, to follow "element i of the <what>").
func arrayProblem(s, what string, elem func(json.RawMessage) string) string {
	var elems []json.RawMessage
	if err := json.Unmarshal([]byte(s), &elems); err != nil || elems == nil {
		return "a " + what + " value must be a JSON array"
	}
	for i, e := range elems {
		if reason := elem(e); reason != "" {
			return "element " + strconv.Itoa(i) + " of the " + what + reason
		}
	}
	return ""
}

// messageAttrs converts attributes for the pattern engine, appending to dst.
// The attributes must have been validated.
func messageAttrs(dst []pattern.Attr, attrs map[string]Attribute) []pattern.Attr {
	for name, a := range attrs {
		dst = append(dst, patternAttr(name, attributeType(a), a))
	}
	return dst
}

// patternAttr converts the attribute a, named name, of type kind, for the
// pattern engine; its value is shared, not copied.
func patternAttr(name string, kind pattern.AttrType, a Attribute) pattern.Attr {
	v := a.BinaryValue
	if kind != pattern.AttrBinary {
		v = unsafe.Slice(unsafe.StringData(a.StringValue), len(a.StringValue))
	}
	return pattern.Attr{Name: name, Type: kind, Value: v}
}

// notification is what appendNotificationJSON writes: one message as a
// Topic delivers it to a subscription that does not use raw delivery.
type notification struct {
	MessageID string
	TopicARN  string
	Subject   string
	Body      []byte
	Time      time.Time
	// UnsubscribeURL is SNS's link to end the subscription; an in-process
	// topic has none, so it is what the Topic puts there (may be empty).
	UnsubscribeURL string
	Attributes     map[string]Attribute
	// FIFO topics: SequenceNumber and GroupID are written when FIFO is set.
	FIFO           bool
	SequenceNumber string
	GroupID        string
}

// notificationLayout is SNS's Timestamp: RFC 3339 in UTC with milliseconds.
const notificationLayout = "2006-01-02T15:04:05.000Z"

// appendNotificationJSON appends n as the JSON document SNS sends to SQS,
// Lambda and HTTP(S) subscribers, with SNS's member names and order: Type
// ("Notification"), MessageId, SequenceNumber (FIFO), TopicArn, Subject
// (only when set, as SNS omits it), Message (the body as a JSON string),
// Timestamp, SignatureVersion, Signature, SigningCertURL, UnsubscribeURL,
// MessageGroupId (FIFO) and MessageAttributes (only when there are any;
// each {"Type":..,"Value":..}, Binary values in base64, sorted by name).
//
// An in-process topic signs nothing: SignatureVersion is "1" as SNS's, and
// Signature and SigningCertURL are empty strings, present so that decoders
// written for SNS find every member.
func appendNotificationJSON(dst []byte, n notification) []byte {
	dst = append(dst, `{"Type":"Notification","MessageId":`...)
	dst = jsontext.AppendString(dst, n.MessageID)
	if n.FIFO {
		dst = append(dst, `,"SequenceNumber":`...)
		dst = jsontext.AppendString(dst, n.SequenceNumber)
	}
	dst = append(dst, `,"TopicArn":`...)
	dst = jsontext.AppendString(dst, n.TopicARN)
	if n.Subject != "" {
		dst = append(dst, `,"Subject":`...)
		dst = jsontext.AppendString(dst, n.Subject)
	}
	dst = append(dst, `,"Message":`...)
	dst = jsontext.AppendString(dst, unsafe.String(unsafe.SliceData(n.Body), len(n.Body)))
	dst = append(dst, `,"Timestamp":"`...)
	dst = n.Time.UTC().AppendFormat(dst, notificationLayout)
	dst = append(dst, `","SignatureVersion":"1","Signature":"","SigningCertURL":"","UnsubscribeURL":`...)
	dst = jsontext.AppendString(dst, n.UnsubscribeURL)
	if n.FIFO {
		dst = append(dst, `,"MessageGroupId":`...)
		dst = jsontext.AppendString(dst, n.GroupID)
	}
	if len(n.Attributes) > 0 {
		var stack [16]string
		names := stack[:0]
		for name := range n.Attributes {
			names = append(names, name)
		}
		slices.Sort(names)
		dst = append(dst, `,"MessageAttributes":{`...)
		for i, name := range names {
			a := n.Attributes[name]
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = jsontext.AppendString(dst, name)
			dst = append(dst, `:{"Type":`...)
			dst = jsontext.AppendString(dst, a.DataType)
			dst = append(dst, `,"Value":"`...)
			if kind, _ := attributeKind(a.DataType); kind == pattern.AttrBinary {
				dst = base64.StdEncoding.AppendEncode(dst, a.BinaryValue)
			} else {
				dst = jsontext.AppendEscaped(dst, a.StringValue)
			}
			dst = append(dst, `"}`...)
		}
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

// Attribute is a typed message attribute, as SNS defines them.
type Attribute struct {
	// DataType is "String", "Number", "Binary" or "String.Array",
	// optionally followed by a custom suffix ("Number.float"). A
	// "Number.Array" whose StringValue is a JSON array of numbers is matched
	// element by element, as a String.Array is (SNS's guide writes such
	// attributes); with a single number it is a Number.
	DataType string
	// StringValue holds the value of String, Number and String.Array
	// attributes (the array as its JSON text).
	StringValue string
	// BinaryValue holds the value of Binary attributes.
	BinaryValue []byte
}
