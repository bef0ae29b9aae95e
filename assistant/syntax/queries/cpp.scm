;; Tags for C++. See python.scm for the capture conventions. Names may be qualified
;; (`void Foo::bar()`): the code takes the last component as the name and the scope as the parent.

(function_definition
  declarator: (function_declarator
    declarator: [(identifier) (field_identifier) (qualified_identifier) (destructor_name) (operator_name)]
      @name.definition.function)) @definition.function
(function_definition
  declarator: (pointer_declarator
    declarator: (function_declarator
      declarator: [(identifier) (field_identifier) (qualified_identifier) (operator_name)]
        @name.definition.function))) @definition.function
(function_definition
  declarator: (reference_declarator
    (function_declarator
      declarator: [(identifier) (field_identifier) (qualified_identifier) (operator_name)]
        @name.definition.function))) @definition.function

; Prototypes and member declarations: `int f(int);`, `virtual void g() const;` (the code drops
; declarations inside function bodies, where `Matrix m(n, n);` parses like a prototype).
(declaration
  declarator: (function_declarator
    declarator: [(identifier) (qualified_identifier) (destructor_name) (operator_name)]
      @name.definition.function)) @definition.function
(declaration
  declarator: [(pointer_declarator (function_declarator
      declarator: [(identifier) (qualified_identifier) (operator_name)] @name.definition.function))
    (reference_declarator (function_declarator
      declarator: [(identifier) (qualified_identifier) (operator_name)] @name.definition.function))])
  @definition.function
(field_declaration
  declarator: (function_declarator
    declarator: [(field_identifier) (destructor_name) (operator_name)] @name.definition.function)) @definition.function
(field_declaration
  declarator: [(pointer_declarator (function_declarator
      declarator: [(field_identifier) (operator_name)] @name.definition.function))
    (reference_declarator (function_declarator
      declarator: [(field_identifier) (operator_name)] @name.definition.function))])
  @definition.function

(class_specifier
  name: [(type_identifier) (qualified_identifier)] @name.definition.class
  body: (_)) @definition.class

(struct_specifier
  name: [(type_identifier) (qualified_identifier)] @name.definition.struct
  body: (_)) @definition.struct

(union_specifier
  name: (type_identifier) @name.definition.union
  body: (_)) @definition.union

(enum_specifier
  name: (type_identifier) @name.definition.enum
  body: (_)) @definition.enum

(namespace_definition
  name: [(namespace_identifier) (nested_namespace_specifier)] @name.definition.namespace) @definition.namespace

(type_definition
  declarator: (type_identifier) @name.definition.type) @definition.type

(alias_declaration
  name: (type_identifier) @name.definition.type) @definition.type

(preproc_def
  name: (identifier) @name.definition.constant) @definition.constant

(preproc_function_def
  name: (identifier) @name.definition.macro) @definition.macro

(preproc_include path: (_) @import)

;; References: every identifier-like leaf (the ranker decides what matters).

(identifier) @name.reference
(type_identifier) @name.reference
(field_identifier) @name.reference
(namespace_identifier) @name.reference

;; Lines an outline keeps verbatim.

(preproc_include) @keep.import
(using_declaration) @keep.import
(field_declaration_list [(field_declaration) (access_specifier)] @keep.field)
