import { Combobox, Field, Option } from "@fluentui/react-components";

export interface Choice {
  value: string;
  text: string;
}

/** A Fluent combobox fed by a real source that also takes typed text (a segment without model.json, a list id). */
export function Picker(props: {
  label: string;
  value: string;
  choices: Choice[];
  onChange: (value: string) => void;
  hint?: string;
  required?: boolean;
  validation?: { validationState?: "error"; validationMessage?: string };
  placeholder?: string;
}) {
  const picked = props.choices.find((c) => c.value === props.value);
  return (
    <Field label={props.label} hint={props.hint} required={props.required} {...props.validation}>
      <Combobox
        freeform
        value={picked ? picked.text : props.value}
        selectedOptions={picked ? [picked.value] : []}
        placeholder={props.placeholder}
        onOptionSelect={(_, data) => props.onChange(data.optionValue ?? "")}
        onChange={(event) => props.onChange(event.target.value)}
      >
        {props.choices.map((choice) => (
          <Option key={choice.value} value={choice.value}>
            {choice.text}
          </Option>
        ))}
      </Combobox>
    </Field>
  );
}
