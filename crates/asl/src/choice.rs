//! Evaluating JSONPath Choice rules (`Condition`) against a state's input.
