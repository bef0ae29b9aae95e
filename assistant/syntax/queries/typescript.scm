;; Tags for TypeScript and TSX (one file, compiled once per grammar). See python.scm.

(function_declaration
  name: (identifier) @name.definition.function) @definition.function

(generator_function_declaration
  name: (identifier) @name.definition.function) @definition.function

(function_signature
  name: (identifier) @name.definition.function) @definition.function

(class_declaration
  name: (type_identifier) @name.definition.class) @definition.class

(abstract_class_declaration
  name: (type_identifier) @name.definition.class) @definition.class

(interface_declaration
  name: (type_identifier) @name.definition.interface) @definition.interface

(type_alias_declaration
  name: (type_identifier) @name.definition.type) @definition.type

(enum_declaration
  name: (identifier) @name.definition.enum) @definition.enum

(internal_module
  name: [(identifier) (nested_identifier)] @name.definition.namespace) @definition.namespace

(module
  name: [(identifier) (nested_identifier) (string)] @name.definition.namespace) @definition.namespace

(method_definition
  name: [(property_identifier) (private_property_identifier)] @name.definition.method) @definition.method

; Class fields holding functions are methods in all but syntax: `handle = (e: Event) => { … }`.
(public_field_definition
  name: [(property_identifier) (private_property_identifier)] @name.definition.method
  value: [(arrow_function) (function_expression)]) @definition.method

(abstract_method_signature
  name: [(property_identifier) (private_property_identifier)] @name.definition.method) @definition.method

; Bodiless members: overloads, `declare class` members, interface methods.
(method_signature
  name: [(property_identifier) (private_property_identifier)] @name.definition.method) @definition.method

(program
  [(lexical_declaration (variable_declarator name: (identifier) @name.definition.variable) @definition.variable)
   (variable_declaration (variable_declarator name: (identifier) @name.definition.variable) @definition.variable)])

(program
  (export_statement
    declaration: [
      (lexical_declaration (variable_declarator name: (identifier) @name.definition.variable) @definition.variable)
      (variable_declaration (variable_declarator name: (identifier) @name.definition.variable) @definition.variable)
    ]))

(import_statement source: (string) @import)
(export_statement source: (string) @import)
(import_require_clause source: (string) @import)
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
(type_identifier) @name.reference

;; Lines an outline keeps verbatim.

(import_statement) @keep.import
(class_body [(public_field_definition) (index_signature)] @keep.field)
(interface_body [(property_signature) (index_signature) (call_signature) (construct_signature)] @keep.field)
; `const { a, b } = require("x")` and other destructuring at the top level.
(program
  [(lexical_declaration (variable_declarator name: [(object_pattern) (array_pattern)]))
   (variable_declaration (variable_declarator name: [(object_pattern) (array_pattern)]))] @keep.field)
