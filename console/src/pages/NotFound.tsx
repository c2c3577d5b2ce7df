import { Text } from "@fluentui/react-components";
import { AppLink } from "../components/AppLink";
import { PageHeader } from "../components/common";

export function NotFound() {
  return (
    <>
      <PageHeader title="Not found" />
      <Text as="p">
        There is no such page. <AppLink to="/exports">Go to the exports</AppLink>
      </Text>
    </>
  );
}
