;; Tags for PHP (the grammar with embedded HTML). See python.scm for the capture conventions.

(class_declaration
  name: (name) @name.definition.class) @definition.class

(interface_declaration
  name: (name) @name.definition.interface) @definition.interface

(trait_declaration
  name: (name) @name.definition.trait) @definition.trait

(enum_declaration
  name: (name) @name.definition.enum) @definition.enum

(function_definition
  name: (name) @name.definition.function) @definition.function

(method_declaration
  name: (name) @name.definition.method) @definition.method

(namespace_definition
  name: (namespace_name) @name.definition.namespace) @definition.namespace

(program
  (const_declaration (const_element (name) @name.definition.constant)) @definition.constant)

; `use A\B;`, `use A\B as C;`, `use A\{B, C};` (the code joins group prefixes), `require "x.php";`
(namespace_use_declaration) @import
([(require_expression) (require_once_expression) (include_expression) (include_once_expression)]
  [(string) (encapsed_string)] @import)

;; References: every identifier-like leaf (the ranker decides what matters).

(name) @name.reference

;; Lines an outline keeps verbatim.

(php_tag) @keep.package
(namespace_use_declaration) @keep.import
(declaration_list
  [(property_declaration) (const_declaration) (use_declaration)] @keep.field)
(enum_declaration_list (enum_case) @keep.field)
