export default function NotFound() {
  return <main id="main"><h1>NF TAGS</h1></main>;
}
