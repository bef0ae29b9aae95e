;; Tags for C. See python.scm for the capture conventions. Function names sit under up to two
;; pointer declarators (`char **f(void)`).

(function_definition
  declarator: (function_declarator declarator: (identifier) @name.definition.function)) @definition.function
(function_definition
  declarator: (pointer_declarator
    declarator: (function_declarator declarator: (identifier) @name.definition.function))) @definition.function
(function_definition
  declarator: (pointer_declarator
    declarator: (pointer_declarator
      declarator: (function_declarator declarator: (identifier) @name.definition.function)))) @definition.function

; Prototypes: `int f(int);`
(declaration
  declarator: (function_declarator declarator: (identifier) @name.definition.function)) @definition.function
(declaration
  declarator: (pointer_declarator
    declarator: (function_declarator declarator: (identifier) @name.definition.function))) @definition.function

(struct_specifier
  name: (type_identifier) @name.definition.struct
  body: (_)) @definition.struct

(union_specifier
  name: (type_identifier) @name.definition.union
  body: (_)) @definition.union

(enum_specifier
  name: (type_identifier) @name.definition.enum
  body: (_)) @definition.enum

(type_definition
  declarator: (type_identifier) @name.definition.type) @definition.type

(preproc_def
  name: (identifier) @name.definition.constant) @definition.constant

(preproc_function_def
  name: (identifier) @name.definition.macro) @definition.macro

(translation_unit
  (declaration
    declarator: (init_declarator declarator: (identifier) @name.definition.variable)) @definition.variable)

(preproc_include path: (_) @import)

;; References: every identifier-like leaf (the ranker decides what matters).

(identifier) @name.reference
(type_identifier) @name.reference
(field_identifier) @name.reference

;; Lines an outline keeps verbatim.

(preproc_include) @keep.import
; Members of long structs, unions and enums (short ones are shown whole).
(field_declaration_list (field_declaration) @keep.field)
(enumerator_list (enumerator) @keep.field)
