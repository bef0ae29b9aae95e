;; Tags for Ruby. See python.scm for the capture conventions.

(class
  name: [(constant) (scope_resolution)] @name.definition.class) @definition.class

(module
  name: [(constant) (scope_resolution)] @name.definition.module) @definition.module

; `def` outside a class or module is a function; the code makes it a method inside one.
(method
  name: (_) @name.definition.function) @definition.function

(singleton_method
  name: (_) @name.definition.function) @definition.function

(program
  (assignment left: (constant) @name.definition.constant) @definition.constant)

(class
  body: (body_statement
    (assignment left: (constant) @name.definition.constant) @definition.constant))

(module
  body: (body_statement
    (assignment left: (constant) @name.definition.constant) @definition.constant))

(call
  method: (identifier) @_require
  arguments: (argument_list . (string (string_content) @import))
  (#match? @_require "^(require|require_relative|load)$"))

;; References: every identifier-like leaf (the ranker decides what matters).

(identifier) @name.reference
(constant) @name.reference

;; Lines an outline keeps verbatim.

(program
  (call
    method: (identifier) @_require
    (#match? @_require "^(require|require_relative)$")) @keep.import)

(body_statement
  (call
    method: (identifier) @_macro
    (#match? @_macro "^(include|extend|prepend|attr_reader|attr_writer|attr_accessor|module_function)$")) @keep.field)

(body_statement
  (identifier) @keep.field
  (#match? @keep.field "^(private|protected|public)$"))
