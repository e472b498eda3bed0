package output

// AppendJSONString is exported for its fuzz test.
var AppendJSONString = appendJSONString
