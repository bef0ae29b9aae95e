;; Tags for JavaScript (and JSX). See python.scm for the capture conventions.

(function_declaration
  name: (identifier) @name.definition.function) @definition.function

(generator_function_declaration
  name: (identifier) @name.definition.function) @definition.function

(class_declaration
  name: (identifier) @name.definition.class) @definition.class

(method_definition
  name: [(property_identifier) (private_property_identifier)] @name.definition.method) @definition.method

; Class fields holding functions are methods in all but syntax: `handle = (e) => { … }`.
(field_definition
  property: [(property_identifier) (private_property_identifier)] @name.definition.method
  value: [(arrow_function) (function_expression)]) @definition.method

; Top-level `const f = () => …` / `let X = 1` (plain or exported); functions vs constants decided by value.
(program
  [(lexical_declaration (variable_declarator name: (identifier) @name.definition.variable) @definition.variable)
   (variable_declaration (variable_declarator name: (identifier) @name.definition.variable) @definition.variable)])

(program
  (export_statement
    declaration: [
      (lexical_declaration (variable_declarator name: (identifier) @name.definition.variable) @definition.variable)
      (variable_declaration (variable_declarator name: (identifier) @name.definition.variable) @definition.variable)
    ]))

; CommonJS and prototype assignments at the top level: `exports.f = function …`,
; `module.exports.g = () => …`, `Foo.prototype.m = function …` (the code makes the last a method of Foo).
(program
  (expression_statement
    (assignment_expression
      left: (member_expression property: (property_identifier) @name.definition.function)
      right: [(function_expression) (arrow_function) (generator_function)]) @definition.function))

(import_statement source: (string) @import)
(export_statement source: (string) @import)
(call_expression
  function: (identifier) @_require
  arguments: (arguments . (string) @import)
  (#eq? @_require "require"))
(call_expression
  function: (import)
  arguments: (arguments . (string) @import))

;; References: every identifier-like leaf (the ranker decides what matters).

(identifier) @name.reference
(property_identifier) @name.reference
(shorthand_property_identifier) @name.reference

;; Lines an outline keeps verbatim.

(import_statement) @keep.import
(class_body (field_definition) @keep.field)
; `const { a, b } = require("x")` and other destructuring at the top level.
(program
  [(lexical_declaration (variable_declarator name: [(object_pattern) (array_pattern)]))
   (variable_declaration (variable_declarator name: [(object_pattern) (array_pattern)]))] @keep.field)
